"""The classifier a trial trains: a pretrained encoder with a relation head.

``cls`` pooling is transformers' own ``AutoModelForSequenceClassification`` (what the KLUE
baseline and the competition code use). ``entity_start`` pooling concatenates the encoder states
at the subject's and the object's start markers (Baldini Soares et al. 2019; Zhou & Chen 2021),
which is the stronger head for relation extraction.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn
from transformers import AutoModel

from objectives.data._labels import LabelSet
from objectives.models._loading import load_model


class EntityStartClassifier(nn.Module):
    """Encoder states at the two entity start markers, concatenated, through a small MLP head."""

    def __init__(self, encoder: nn.Module, num_labels: int) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        dropout = getattr(encoder.config, "hidden_dropout_prob", 0.1)
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(2 * hidden, hidden),
            nn.Tanh(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_labels),
        )
        self.config = encoder.config

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        subject_index: torch.Tensor,
        object_index: torch.Tensor,
    ) -> torch.Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        rows = torch.arange(states.size(0), device=states.device)
        pooled = torch.cat([states[rows, subject_index], states[rows, object_index]], dim=-1)
        return self.head(pooled)


class ClsClassifier(nn.Module):
    """``AutoModelForSequenceClassification`` behind the same call signature, returning logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.config = model.config

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        subject_index: torch.Tensor | None = None,
        object_index: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def build_classifier(model_path: str, labels: LabelSet, pooling: str, tokenizer) -> nn.Module:
    """Load the encoder (random head) for ``pooling``; both heads take the same batch."""
    if pooling == "cls":
        return ClsClassifier(load_model(model_path, len(labels), tokenizer))
    encoder = AutoModel.from_pretrained(model_path)
    if len(tokenizer) > encoder.get_input_embeddings().num_embeddings:
        encoder.resize_token_embeddings(len(tokenizer))
    return EntityStartClassifier(encoder, len(labels))


def save_classifier(model: nn.Module, tokenizer, labels: LabelSet, out: Path) -> str:
    """Save the best checkpoint so that it loads again with transformers and this module.

    ``cls``: the ``AutoModelForSequenceClassification`` directory, with the label names in its
    config. ``entity_start``: the encoder's directory plus ``head.safetensors`` and
    ``head.json`` for :class:`EntityStartClassifier`'s head.
    """
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    if isinstance(model, ClsClassifier):
        config = model.model.config
        config.id2label = dict(enumerate(labels.names))
        config.label2id = {name: i for i, name in enumerate(labels.names)}
        model.model.save_pretrained(out)
    else:
        model.encoder.save_pretrained(out)
        save_file(
            {k: v.contiguous() for k, v in model.head.state_dict().items()},
            out / "head.safetensors",
        )
        (out / "head.json").write_text(
            json.dumps(
                {"pooling": "entity_start", "labels": list(labels.names)}, ensure_ascii=False
            )
        )
    return str(out)
