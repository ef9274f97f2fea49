// GISP_HOST_DEVICE marks the few small inline functions that the host (gcc) and the CUDA kernels
// (nvcc) share, so a formula that must agree bit for bit on both is written once.
#ifndef GISP_BASE_HOST_DEVICE_H_
#define GISP_BASE_HOST_DEVICE_H_

#if defined(__CUDACC__)
#define GISP_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GISP_HOST_DEVICE inline
#endif

#endif  // GISP_BASE_HOST_DEVICE_H_
