/* cordon — symbol export and C++ linkage helpers.
 *
 * Every public function is declared with CORDON_API; everything else in the library is compiled with
 * hidden visibility, so the shared library exports exactly the public API. */
#ifndef CORDON_EXPORT_H
#define CORDON_EXPORT_H

#if defined(CORDON_STATIC_DEFINE)
#  define CORDON_API
#elif defined(_WIN32)
#  if defined(CORDON_BUILDING_LIBRARY)
#    define CORDON_API __declspec(dllexport)
#  else
#    define CORDON_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define CORDON_API __attribute__((visibility("default")))
#else
#  define CORDON_API
#endif

/* A status that the caller must look at: ignoring it is a compile-time warning. */
#if defined(__GNUC__) || defined(__clang__)
#  define CORDON_NODISCARD __attribute__((warn_unused_result))
#else
#  define CORDON_NODISCARD
#endif

#ifdef __cplusplus
#  define CORDON_BEGIN_DECLS extern "C" {
#  define CORDON_END_DECLS }
#else
#  define CORDON_BEGIN_DECLS
#  define CORDON_END_DECLS
#endif

#endif /* CORDON_EXPORT_H */
