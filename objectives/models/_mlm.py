"""Masked-LM training of an encoder on a corpus, through accelerate: what TAPT runs.

The adapted encoder is saved with the base checkpoint's pooler, so that ``cls`` pooling still
classifies from a pretrained one, and with its tokenizer: ``--model DIR`` loads it like any
checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common._cli import UserError
from objectives.models._loading import load_masked_lm, load_tokenizer, positions_of

WARMUP_RATIO = 0.06  # TAPT's (RoBERTa's) warm-up
WEIGHT_DECAY = 0.01
EVAL_SENTENCES = 512  # the before/after MLM loss is measured on at most this many sentences


def train_mlm(
    model_path: str, corpus: Sequence[str], params, out: Path, progress: bool
) -> dict[str, Any]:
    """Train ``model_path`` on ``corpus`` with ``params`` (a TaptParams); save the adapted
    encoder and the tokenizer into ``out``; return what the run measured."""
    from accelerate.utils import set_seed

    from objectives._hparams import RunSettings
    from objectives.training._accelerator import new_accelerator

    started = time.perf_counter()
    tokenizer = load_tokenizer(model_path)
    if tokenizer.mask_token is None:
        raise UserError(f"--model {model_path}: its tokenizer has no mask token (not a masked LM)")
    set_seed(params.seed)
    model = load_masked_lm(model_path)
    max_len = min(params.max_len, positions_of(model.config, model_path))
    rows = _encode(tokenizer, corpus, max_len)
    accelerator = new_accelerator(RunSettings())  # fp16 on CUDA, fp32 on the CPU
    multiple = 8 if accelerator.device.type == "cuda" else None
    held_out = random.Random(params.seed).sample(rows, min(len(rows), EVAL_SENTENCES))
    before = _eval_loss(accelerator, model, tokenizer, held_out, params, multiple)
    model, steps, losses = _steps(accelerator, model, tokenizer, rows, params, multiple, progress)
    after = _eval_loss(accelerator, model, tokenizer, held_out, params, multiple)
    _save_encoder(accelerator.unwrap_model(model), model_path, out)
    tokenizer.save_pretrained(out)
    accelerator.free_memory()
    return {
        "params": dataclasses.asdict(params),
        "max_len": max_len,
        "sentences": len(corpus),
        "steps": steps,
        "mlm_loss_before": round(before, 4),
        "mlm_loss_after": round(after, 4),
        "train_loss_first": round(losses[0], 4),
        "train_loss_last": round(losses[-1], 4),
        "eval_sentences": len(held_out),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _steps(accelerator, model, tokenizer, rows, params, multiple, progress: bool):
    """The optimizer loop: ``params.epochs`` over ``rows`` (a fraction ends mid-epoch)."""
    import torch
    from transformers import DataCollatorForLanguageModeling, get_linear_schedule_with_warmup

    from common._bars import progress_bar

    collator = DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=params.mlm_probability, pad_to_multiple_of=multiple
    )
    loader = torch.utils.data.DataLoader(
        rows,
        batch_size=params.batch_size,
        shuffle=True,
        collate_fn=collator,
        generator=torch.Generator().manual_seed(params.seed),
    )
    total = max(1, math.ceil(len(loader) * params.epochs))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=params.learning_rate, weight_decay=WEIGHT_DECAY
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, math.floor(WARMUP_RATIO * total), total)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    step, losses = 0, []
    bar = progress_bar(total=total, desc="tapt", unit="step", disable=not progress)
    while step < total:
        for batch in loader:
            model.train()
            loss = model(**batch).loss
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            losses.append(float(loss.detach()))
            bar.update(1)
            if not math.isfinite(losses[-1]):
                raise UserError(
                    f"--learning_rate {params.learning_rate}: the masked-LM loss became "
                    f"non-finite at step {step}; try a smaller one"
                )
            if step >= total:
                break
    bar.close()
    return model, step, losses


def _encode(tokenizer, corpus: Sequence[str], max_len: int) -> list[dict[str, list[int]]]:
    encoded = tokenizer(
        list(corpus), truncation=True, max_length=max_len, return_special_tokens_mask=True
    )
    keys = ("input_ids", "attention_mask", "special_tokens_mask")
    return [{k: encoded[k][i] for k in keys} for i in range(len(corpus))]


def _eval_loss(accelerator, model, tokenizer, rows, params, multiple) -> float:
    """Mean masked-LM loss per masked token, with the same masks every time (a seeded collator)."""
    import torch
    from transformers import DataCollatorForLanguageModeling

    collator = DataCollatorForLanguageModeling(
        tokenizer,
        mlm_probability=params.mlm_probability,
        pad_to_multiple_of=multiple,
        seed=params.seed,
    )
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), params.batch_size):
            batch = collator(rows[start : start + params.batch_size])
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            masked = int((batch["labels"] != -100).sum())
            if masked:
                with accelerator.autocast():
                    loss = model(**batch).loss
                total += float(loss) * masked
                count += masked
    return total / max(count, 1)


def _save_encoder(mlm, model_path: str, out: Path) -> None:
    """Save the adapted encoder with the base checkpoint's pooler, if it has one.

    A masked-LM model has no pooler, so saving it would drop a BERT checkpoint's pretrained
    pooler, which ``cls`` pooling classifies from; the adapted weights go into the base encoder
    instead, and the MLM head (unused by fine-tuning) is left out.
    """
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(model_path)
    missing, unexpected = encoder.load_state_dict(mlm.base_model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise RuntimeError(f"adapted weights do not fit {model_path}: {missing} {unexpected}")
    encoder.save_pretrained(out)
