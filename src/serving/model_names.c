/* The names of the models the current config serves, for listings and
 * readiness checks (plinth's GET /v1/models?list and /v2/health/ready). */
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

pl_status pl_serving_model_names(pl_serving *s, char ***names, int *num) {
    *names = NULL;
    *num = 0;
    pthread_mutex_lock(&s->mu);
    int n = s->have_config && s->config.kind == PL_CONFIG_MODEL_LIST ? s->config.num_models : 0;
    char **out = calloc((size_t)n + 1, sizeof *out);
    bool ok = out != NULL;
    for (int i = 0; ok && i < n; i++) ok = (out[i] = pl__strdup(s->config.models[i].name)) != NULL;
    pthread_mutex_unlock(&s->mu);
    if (!ok) {
        pl_serving_model_names_free(out, n);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    qsort(out, (size_t)n, sizeof *out, cmp_str);
    *names = out;
    *num = n;
    return NULL;
}

void pl_serving_model_names_free(char **names, int num) {
    if (!names) return;
    for (int i = 0; i < num; i++) free(names[i]);
    free(names);
}
