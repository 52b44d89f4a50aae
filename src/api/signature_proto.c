/* SignatureDefMap built from a model's signatures (see signature_proto.h). */
#include "api/signature_proto.h"

static Tensorflow__TensorInfo *tensor_info(pl_arena *a, const pl_tensor_info *in) {
    Tensorflow__TensorInfo *t = pl_arena_alloc(a, sizeof *t);
    Tensorflow__TensorShapeProto *shape = pl_arena_alloc(a, sizeof *shape);
    if (!t || !shape) return NULL;
    tensorflow__tensor_info__init(t);
    tensorflow__tensor_shape_proto__init(shape);
    t->encoding_case = TENSORFLOW__TENSOR_INFO__ENCODING_NAME;
    t->name = in->tensor_name ? in->tensor_name : "";
    t->dtype = (Tensorflow__DataType)in->dtype;
    t->tensor_shape = shape;
    if (in->rank < 0) {
        shape->unknown_rank = 1;
        return t;
    }
    shape->n_dim = (size_t)in->rank;
    shape->dim = pl_arena_calloc(a, (size_t)in->rank + 1, sizeof *shape->dim);
    if (!shape->dim) return NULL;
    for (int i = 0; i < in->rank; i++) {
        Tensorflow__TensorShapeProto__Dim *d = pl_arena_alloc(a, sizeof *d);
        if (!d) return NULL;
        tensorflow__tensor_shape_proto__dim__init(d);
        d->size = in->dims[i];
        shape->dim[i] = d;
    }
    return t;
}

static Tensorflow__SignatureDef *signature_def(pl_arena *a, const pl_signature *sig) {
    Tensorflow__SignatureDef *s = pl_arena_alloc(a, sizeof *s);
    if (!s) return NULL;
    tensorflow__signature_def__init(s);
    s->method_name = sig->method_name ? sig->method_name : "";
    s->n_inputs = (size_t)sig->num_inputs;
    s->inputs = pl_arena_calloc(a, (size_t)sig->num_inputs + 1, sizeof *s->inputs);
    s->n_outputs = (size_t)sig->num_outputs;
    s->outputs = pl_arena_calloc(a, (size_t)sig->num_outputs + 1, sizeof *s->outputs);
    if (!s->inputs || !s->outputs) return NULL;
    for (int i = 0; i < sig->num_inputs; i++) {
        Tensorflow__SignatureDef__InputsEntry *e = pl_arena_alloc(a, sizeof *e);
        if (!e) return NULL;
        tensorflow__signature_def__inputs_entry__init(e);
        e->key = sig->inputs[i].alias;
        if (!(e->value = tensor_info(a, &sig->inputs[i]))) return NULL;
        s->inputs[i] = e;
    }
    for (int i = 0; i < sig->num_outputs; i++) {
        Tensorflow__SignatureDef__OutputsEntry *e = pl_arena_alloc(a, sizeof *e);
        if (!e) return NULL;
        tensorflow__signature_def__outputs_entry__init(e);
        e->key = sig->outputs[i].alias;
        if (!(e->value = tensor_info(a, &sig->outputs[i]))) return NULL;
        s->outputs[i] = e;
    }
    return s;
}

pl_status pl__signature_def_map(pl_arena *a, const pl_model *m, Tensorflow__Serving__SignatureDefMap *map) {
    tensorflow__serving__signature_def_map__init(map);
    int n = pl_model_num_signatures(m);
    map->n_signature_def = (size_t)n;
    map->signature_def = pl_arena_calloc(a, (size_t)n + 1, sizeof *map->signature_def);
    if (!map->signature_def) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        const pl_signature *sig = pl_model_signature(m, i);
        Tensorflow__Serving__SignatureDefMap__SignatureDefEntry *e = pl_arena_alloc(a, sizeof *e);
        if (!e) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        tensorflow__serving__signature_def_map__signature_def_entry__init(e);
        e->key = sig->key;
        if (!(e->value = signature_def(a, sig))) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        map->signature_def[i] = e;
    }
    return NULL;
}
