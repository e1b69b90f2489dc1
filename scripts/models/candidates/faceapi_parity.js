// Reference for faceapi_resnet.py: face-api.js's own FaceRecognitionNet on the
// tfjs-core CPU backend. Reads N raw 150x150 RGB float32 images (NHWC), writes
// the N x 128 descriptors as float32.
// Usage: node faceapi_parity.js MANIFEST.json WEIGHTS.bin IN.f32 OUT.f32 N
const fs = require('fs');
const tf = require('@tensorflow/tfjs-core');
const faceapi = require('face-api.js');

const [manifestPath, binPath, inPath, outPath, n] = process.argv.slice(2);
(async () => {
  await tf.setBackend('cpu');
  const manifest = JSON.parse(fs.readFileSync(manifestPath));
  const buf = fs.readFileSync(binPath);
  const weights = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(tf.io.decodeWeights(weights, manifest.flatMap((g) => g.weights)));
  const raw = fs.readFileSync(inPath);
  const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [parseInt(n, 10), 150, 150, 3]);
  const out = net.forwardInput(await faceapi.toNetInput(tf.unstack(x)));
  fs.writeFileSync(outPath, Buffer.from((await out.data()).buffer));
})();
