/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — symbol export and C++ linkage helpers.
 *
 * Every public function is declared with CORDON_API; everything else in the library is compiled with
 * hidden visibility, so the shared library exports exactly the public API. */
#ifndef CORDON_EXPORT_H
#define CORDON_EXPORT_H

/* Standard attributes ([[...]]) where the language has them: C23 and C++17. A standard attribute must
 * open the declaration, so there the export attribute is spelled [[gnu::visibility]] too. */
#if defined(_WIN32)
/* __declspec must come first: GNU-style attributes only. */
#elif defined(__cplusplus)
#  if __cplusplus >= 201703L
#    define CORDON__STD_ATTRIBUTES 1
#  endif
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ > 201710L
#  define CORDON__STD_ATTRIBUTES 1
#endif

#if defined(CORDON_STATIC_DEFINE)
#  define CORDON_API
#elif defined(_WIN32)
#  if defined(CORDON_BUILDING_LIBRARY)
#    define CORDON_API __declspec(dllexport)
#  else
#    define CORDON_API __declspec(dllimport)
#  endif
#elif defined(CORDON__STD_ATTRIBUTES) && (defined(__GNUC__) || defined(__clang__))
#  define CORDON_API [[gnu::visibility("default")]]
#elif defined(__GNUC__) || defined(__clang__)
#  define CORDON_API __attribute__((visibility("default")))
#else
#  define CORDON_API
#endif

/* A status that the caller must look at, because ignoring it loses something: an object not created, a
 * wait that did not happen, a lock not taken, bytes not read or written. Ignoring it is a compile-time
 * warning. Functions whose failure can only be a caller bug (unlock, signal, broadcast, post, wake…)
 * do not carry it.
 * In C23 and C++17 this is [[nodiscard]], which a (void) cast silences. Before them it is GNU
 * warn_unused_result: clang accepts a (void) cast, gcc does not (use the value, e.g. in an if). */
#if defined(CORDON__STD_ATTRIBUTES)
#  define CORDON_NODISCARD [[nodiscard]]
#elif defined(__GNUC__) || defined(__clang__)
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
