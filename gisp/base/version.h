// The library's version string: stored in records, reported by the C API
// (gisp_version_string) and in model descriptions.
#ifndef GISP_BASE_VERSION_H_
#define GISP_BASE_VERSION_H_

namespace gisp {

// "0.1.0".
const char* GispVersion();

}  // namespace gisp

#endif  // GISP_BASE_VERSION_H_
