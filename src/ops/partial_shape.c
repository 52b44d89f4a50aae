/* Partial shapes: compatibility, merging and TensorFlow's printed form. */
#include "ops/partial_shape.h"

#include <stdio.h>
#include <string.h>

bool pl__pshape_fully_defined(const pl__pshape *s) {
    if (s->rank < 0) return false;
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] < 0) return false;
    return true;
}

bool pl__pshape_compatible(const pl__pshape *s, int rank, const int64_t *dims) {
    if (s->rank < 0) return true;
    if (s->rank != rank) return false;
    for (int i = 0; i < rank; i++)
        if (s->dims[i] >= 0 && s->dims[i] != dims[i]) return false;
    return true;
}

const char *pl__pshape_str(const pl__pshape *s, char *buf, size_t size) {
    if (s->rank < 0) {
        snprintf(buf, size, "<unknown>");
        return buf;
    }
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->rank && n < size; i++) {
        if (s->dims[i] < 0)
            n += (size_t)snprintf(buf + n, size - n, i ? ",?" : "?");
        else
            n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)s->dims[i]);
    }
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

pl_status pl__pshape_merge(pl__pshape *into, int rank, const int64_t *dims) {
    if (rank < 0) return NULL;
    if (into->rank < 0) {
        into->rank = rank;
        memcpy(into->dims, dims, (size_t)rank * sizeof *dims);
        return NULL;
    }
    if (into->rank != rank)
        return pl_error(PL_INVALID_ARGUMENT, "Incompatible ranks during merge: %d vs. %d", into->rank, rank);
    for (int i = 0; i < rank; i++) {
        if (into->dims[i] >= 0 && dims[i] >= 0 && into->dims[i] != dims[i]) {
            /* Room for PL_MAX_RANK dims of 20 digits each. */
            char a[192], b[192];
            pl__pshape other = {rank, {0}};
            memcpy(other.dims, dims, (size_t)rank * sizeof *dims);
            return pl_error(PL_INVALID_ARGUMENT, "Incompatible shapes during merge: %s vs. %s",
                            pl__pshape_str(into, a, sizeof a), pl__pshape_str(&other, b, sizeof b));
        }
    }
    for (int i = 0; i < rank; i++)
        if (into->dims[i] < 0) into->dims[i] = dims[i];
    return NULL;
}
