#!/usr/bin/env node
// Times a frozen GraphDef in TensorFlow.js (wasm backend) for bench_zoo_cnn:
// one input from a .npy file, one output, median of --runs after --warmup.
//
//   node zoo_tfjs.js --oracle DIR --model GRAPH.pb --input NAME=IN.npy --output NAME
//                    [--runs N] [--warmup N] [--threads N] --out OUT.bin
//
// DIR is a writable copy of the oracle folder with its npm packages installed
// (bench/run.sh keeps one). Two changes make the graph loadable without
// changing what it computes, as TensorFlow's own import would: Dequantize
// nodes over constants become the float constants TensorFlow's kernel
// produces (quint8 MIN_FIRST, in float32 steps), and convolutions without a
// `dilations` attr get its default. OUT.bin receives the output as raw
// little-endian float32 for comparison; the last stdout line is
// {"median_ms": ..., "min_ms": ..., "threads": ...}.
'use strict';
const fs = require('fs');
const path = require('path');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
}

const oracle = path.resolve(arg('--oracle', process.env.PLINTH_TFJS || '.'));
const tf = require(path.join(oracle, 'node_modules', '@tensorflow', 'tfjs'));
const protobuf = require(path.join(oracle, 'node_modules', 'protobufjs'));
const {convertGraphDef} = require(path.join(oracle, 'convert'));
const {readNpy} = require(path.join(oracle, 'mtcnn_tfjs'));

function graphDefType() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => path.join(oracle, '..', 'spec', 'protos', target);
  root.loadSync('tensorflow/core/framework/graph.proto', {keepCase: true});
  root.resolveAll();
  return root.lookupType('tensorflow.GraphDef');
}

// quantization_utils.h QuantizedToFloatStruct for quint8, each step rounded to float32.
function dequantizeMinFirst(q, lo, hi) {
  const f = Math.fround;
  const out = new Float32Array(q.length);
  if (lo === hi) return out.fill(lo);
  const scale = f((hi - lo) / 255.0);
  const r = f(lo / scale);
  const rounded = f(Math.sign(r) * Math.floor(Math.abs(r) + 0.5) * scale);
  for (let i = 0; i < q.length; i++) out[i] = f(rounded + f(q[i] * scale));
  return out;
}

function normalize(pb) {
  const GraphDef = graphDefType();
  const g = GraphDef.decode(pb);
  const byName = new Map(g.node.map(n => [n.name, n]));
  const scalar = (n) => {
    const t = n.attr.value.tensor;
    return t.float_val && t.float_val.length ? t.float_val[0]
        : new Float32Array(t.tensor_content.buffer.slice(t.tensor_content.byteOffset, t.tensor_content.byteOffset + 4))[0];
  };
  const used = new Set();
  for (const n of g.node) {
    if (n.op === 'Dequantize') {
      const [qn, ln, hn] = n.input.map(i => byName.get(i.split(':')[0]));
      const t = qn.attr.value.tensor;
      if (!n.attr.mode || Buffer.from(n.attr.mode.s).toString() !== 'MIN_FIRST' || t.dtype !== 12)
        throw new Error(n.name + ': only quint8 MIN_FIRST Dequantize is folded');
      const v = dequantizeMinFirst(Uint8Array.from(t.tensor_content), Math.fround(scalar(ln)), Math.fround(scalar(hn)));
      n.op = 'Const';
      n.input = [];
      n.attr = {dtype: {type: 1}, value: {tensor: {dtype: 1, tensor_shape: t.tensor_shape,
                tensor_content: new Uint8Array(v.buffer)}}};
    } else if ((n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative') && !n.attr.dilations) {
      n.attr.dilations = {list: {i: [1, 1, 1, 1]}};
    }
  }
  for (const n of g.node) for (const i of n.input) used.add(i.replace(/^\^/, '').split(':')[0]);
  g.node = g.node.filter(n => !(n.op === 'Const' && !used.has(n.name) && n.attr.value.tensor.dtype === 12));
  return GraphDef.encode(g).finish();
}

(async () => {
  const threads = Number(arg('--threads', 1));
  require(path.join(oracle, 'node_modules', '@tensorflow', 'tfjs-backend-wasm')).setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  await tf.ready();
  const a = convertGraphDef(normalize(fs.readFileSync(arg('--model'))));
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData}));
  const [inName, inFile] = arg('--input').split('=');
  const x = readNpy(inFile);
  const input = tf.tensor(x.data, x.shape, 'float32');
  const output = arg('--output');
  const once = async () => {
    const y = model.execute({[inName]: input}, output);
    const data = await y.data();
    y.dispose();
    return data;
  };
  const runs = Number(arg('--runs', 20)), warmup = Number(arg('--warmup', 3));
  let data;
  for (let i = 0; i < warmup; i++) data = await once();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    data = await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  fs.writeFileSync(arg('--out'), Buffer.from(new Float32Array(data).buffer));
  times.sort((p, q) => p - q);
  console.log(JSON.stringify({median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], threads}));
})().catch(e => { console.error(e.message || e); process.exit(1); });
