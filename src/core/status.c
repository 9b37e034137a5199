/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — names and descriptions of statuses. */
#include "cordon/status.h"

typedef struct status_text {
    const char *name;
    const char *description;
} status_text;

/* Indexed by status value; the static assertion keeps it in step with the enum. */
static const status_text status_texts[] = {
    {"CORDON_OK", "success"},
    {"CORDON_INVALID_ARGUMENT", "invalid argument"},
    {"CORDON_STALE", "stale handle: the object was destroyed"},
    {"CORDON_OUT_OF_BOUNDS", "out of bounds"},
    {"CORDON_MISALIGNED", "misaligned address"},
    {"CORDON_OVERFLOW", "size or offset arithmetic overflows"},
    {"CORDON_LIMIT_EXCEEDED", "limit exceeded"},
    {"CORDON_OUT_OF_MEMORY", "out of memory"},
    {"CORDON_OUT_OF_RESOURCES", "out of OS resources"},
    {"CORDON_PERMISSION_DENIED", "permission denied"},
    {"CORDON_UNSUPPORTED", "not supported on this platform or build"},
    {"CORDON_OS_ERROR", "operating system error"},
    {"CORDON_TIMED_OUT", "timed out"},
    {"CORDON_NOT_EQUAL", "value not equal to the expected one"},
    {"CORDON_BUSY", "busy: would block"},
    {"CORDON_WRONG_STATE", "object is in the wrong state for this operation"},
    {"CORDON_TASK_FAILED", "a task reported failure"},
    {"CORDON_BACKEND_UNAVAILABLE", "backend not available on this machine"},
    {"CORDON_SHAPE_MISMATCH", "shapes do not match"},
    {"CORDON_TRAPPED", "trapped: a fault in a guard or inaccessible page, or a stack overflow"},
};

_Static_assert(sizeof status_texts / sizeof status_texts[0] == CORDON_STATUS_COUNT,
               "status_texts must have one entry per cordon_status");

const char *cordon_status_str(cordon_status status) {
    if ((unsigned)status >= (unsigned)CORDON_STATUS_COUNT) {
        return "unknown status";
    }
    return status_texts[status].description;
}

const char *cordon_status_name(cordon_status status) {
    if ((unsigned)status >= (unsigned)CORDON_STATUS_COUNT) {
        return "CORDON_UNKNOWN_STATUS";
    }
    return status_texts[status].name;
}
