"""Portable programs: any trained model as one TorchScript file that maps uint8 tokens to probabilities.

The registry model (or, for a baseline, :class:`LogisticBaseline`) is traced with ``torch.jit.trace``
and wrapped in a scripted :class:`Program` that checks its input, averages both strands like
:func:`genomedl.training.engine.predict_proba` and carries its classes and window length as attributes. A user
needs only ``torch.jit.load``. Weights are also written as safetensors, for rebuilding with genomedl.
"""

import warnings
from typing import List

import numpy as np
import torch
import torch.nn as nn

from genomedl.models.layers import kmer_frequencies, reverse_complement_tokens


class LogisticBaseline(nn.Module):
    """A baseline (:mod:`genomedl.models.baselines`) in torch: uint8 tokens ``[N, L]`` -> logits ``[N, C]``.

    Its features (``features`` "kmer": frequencies of every k in ``ks``, k-mers with N skipped; "onehot": the
    base indicators ``[N, 4 L]``, position-major), standardised with the fitted mean and scale, times the
    logistic coefficients (float64, as scikit-learn). Two classes: logits ``[0, z]``, whose softmax is
    scikit-learn's ``[1 - sigmoid(z), sigmoid(z)]``; more classes: the multinomial scores.
    """

    def __init__(self, params: dict, features: str):
        super().__init__()
        self.ks, self.onehot = [int(k) for k in params["ks"]], features == "onehot"
        for name in ("mean", "scale", "coef", "intercept"):
            self.register_buffer(name, torch.as_tensor(np.asarray(params[name], dtype=np.float64)))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.onehot:
            bases = torch.arange(4, device=tokens.device)
            features = (tokens.long().unsqueeze(-1) == bases).reshape(tokens.shape[0], -1).double()
        else:
            features = torch.cat([kmer_frequencies(tokens, k) for k in self.ks], dim=1).double()
        scores = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        if scores.shape[1] == 1:
            scores = torch.cat([torch.zeros_like(scores), scores], dim=1)
        return scores


class Program(nn.Module):
    """uint8 tokens ``[N, L]`` (A=0 C=1 G=2 T=3 N=4) -> class probabilities ``[N, C]`` (float32).

    With ``strand_average`` the probabilities are the mean over the window and its reverse complement; a
    ``temperature`` other than 1 (fitted on the validation split) rescales them: ``softmax(log p / temperature)``.
    """

    classes: List[str]
    length: int
    strand_average: bool
    temperature: float

    def __init__(self, net: nn.Module, classes: list[str], length: int, strand_average: bool, temperature: float):
        super().__init__()
        self.net = net
        self.classes, self.length, self.strand_average = list(classes), int(length), bool(strand_average)
        self.temperature = float(temperature)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dtype != torch.uint8:
            raise ValueError("tokens must be uint8 (A=0 C=1 G=2 T=3 N=4), e.g. torch.from_numpy(array.astype('uint8'))")
        if tokens.dim() != 2 or tokens.shape[1] != self.length:
            raise ValueError("expected tokens of shape [N, {}], got {}".format(self.length, tokens.shape))
        if bool((tokens > 4).any()):
            raise ValueError("tokens must be 0..4 (A=0 C=1 G=2 T=3 N=4)")
        probs = self.net(tokens).float().softmax(-1)
        if self.strand_average:
            probs = 0.5 * (probs + self.net(reverse_complement_tokens(tokens)).float().softmax(-1))
        if self.temperature != 1.0:
            probs = (probs.double().clamp_min(1e-12).log() / self.temperature).softmax(-1).float()
        return probs


def example_tokens(length: int) -> torch.Tensor:
    """Two windows ``[2, length]`` that cycle through every token, N included (the tracing input)."""
    return (torch.arange(2 * length) * 3 % 5).to(torch.uint8).reshape(2, length)


def script_program(
    net: nn.Module, classes: list[str], length: int, strand_average: bool, temperature: float = 1.0
) -> torch.jit.ScriptModule:
    """Trace ``net`` (eval mode, CPU) on :func:`example_tokens`; script a :class:`Program` around the trace.

    Tracing keeps the batch size free (the window length is fixed by the model anyway) and records
    recurrent layers as single operators; the Python branches it freezes depend on settings only.
    """
    net = net.eval().cpu().requires_grad_(False)  # the program's outputs carry no autograd graph
    with warnings.catch_warnings(), torch.no_grad():
        warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        traced = torch.jit.trace(net, example_tokens(length), check_trace=False)
        return torch.jit.script(Program(traced, classes, length, strand_average, temperature))


def weights_of(net: nn.Module) -> dict[str, torch.Tensor]:
    """Every persistent tensor of ``net`` as contiguous, unshared CPU copies (safetensors refuses shared memory)."""
    return {name: tensor.detach().cpu().clone().contiguous() for name, tensor in net.state_dict().items()}
