# Cross build of the CPU backend (its portable kernel copy, gisp/backend/cpu/isa.h), the reference
# backend and their tests for aarch64, outside Bazel (Bazel 4.2.3 has no ready cross toolchain).
# Driven by tools/ci/suite_aarch64.sh, which sets OUT, ROOT and DNNL_INC. Needs Debian's
# g++-aarch64-linux-gnu and the arm64 multiarch libraries tools/setup.sh --tests installs.
CXX := aarch64-linux-gnu-g++
ARCH_LIB := /usr/lib/aarch64-linux-gnu
CXXFLAGS := -std=c++17 -O2 -fopenmp -Wall -Wextra -Werror -MMD -MP \
            -I$(ROOT) -isystem $(DNNL_INC) -isystem /usr/include/eigen3
ABSL := $(shell PKG_CONFIG_LIBDIR=$(ARCH_LIB)/pkgconfig pkg-config --libs absl_status \
          absl_statusor absl_strings absl_str_format absl_flat_hash_map absl_hash)
LDLIBS := -L$(ARCH_LIB) $(ARCH_LIB)/libdnnl.so.2 $(ABSL) -lgtest_main -lgtest -lpthread

CPU := gisp/backend/cpu
KERNELS := attention bias cross_entropy elementwise embedding gather kernel_table rms_norm rope \
           saliency swiglu
LIB_SRCS := gisp/base/cpu_features.cc gisp/base/dtype.cc gisp/base/status.cc \
            gisp/tensor/buffer.cc gisp/tensor/tensor.cc \
            gisp/backend/backend.cc gisp/backend/checks.cc gisp/backend/factory.cc \
            gisp/backend/cuda_stub.cc gisp/backend/cpu/reference/reference_backend.cc \
            $(CPU)/cpu_backend.cc $(CPU)/gemm.cc $(CPU)/kernels.cc $(CPU)/kernel_state.cc \
            $(CPU)/signal_shield.cc \
            $(KERNELS:%=$(CPU)/%.cc) \
            gisp/testing/backends.cc gisp/testing/compare.cc
LIB_OBJS := $(LIB_SRCS:%.cc=$(OUT)/%.o)
TESTS := kernel_test cpu_support_test

all: $(TESTS:%=$(OUT)/%)

$(OUT)/%.o: $(ROOT)/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(OUT)/%: $(OUT)/gisp/backend/%.o $(LIB_OBJS)
	$(CXX) -fopenmp $^ $(LDLIBS) -o $@

.PRECIOUS: $(OUT)/%.o
-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
