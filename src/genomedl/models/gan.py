"""WGAN-GP for fixed-length DNA: a generator of soft one-hot sequences and a convolutional critic.

Generator: noise ``[B, latent]`` -> dense -> ``[B, C, ceil(L/4)]`` -> two (upsample x2, conv, BN, ReLU)
blocks -> conv to 4 channels -> softmax over bases: ``[B, 4, L]``. Critic: one-hot ``[B, 4, L]`` ->
strided convolutions (no normalisation, as the gradient penalty requires) -> one score ``[B]``.
Trained by Lightning with manual optimisation: ``n_critic`` critic steps per generator step, gradient
penalty ``gp_weight * (|grad critic(x_hat)| - 1)^2`` on random interpolates of real and generated.
"""

from __future__ import annotations

import lightning as L
import torch
import torch.nn as nn

from genomedl.models.layers import one_hot


class Generator(nn.Module):
    def __init__(self, length: int, latent: int, channels: int):
        super().__init__()
        self.length, self.seed_len = length, -(-length // 4)
        self.dense = nn.Linear(latent, channels * self.seed_len)
        block = lambda: [
            nn.Upsample(scale_factor=2),
            nn.Conv1d(channels, channels, 5, padding=2),  # noqa: E731
            nn.BatchNorm1d(channels),
            nn.ReLU(),
        ]
        self.body = nn.Sequential(
            nn.BatchNorm1d(channels), nn.ReLU(), *block(), *block(), nn.Conv1d(channels, 4, 5, padding=2)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Noise ``[B, latent]`` -> base probabilities ``[B, 4, L]``."""
        x = self.dense(z).view(len(z), -1, self.seed_len)
        return self.body(x)[..., : self.length].softmax(1)


class Critic(nn.Module):
    def __init__(self, length: int, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(4, channels, 5, padding=2),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_out = self.body(torch.zeros(1, 4, length)).shape[1]
        self.score = nn.Linear(n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(Soft) one-hot ``[B, 4, L]`` -> critic scores ``[B]``."""
        return self.score(self.body(x))[:, 0]


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Mean of (||d critic / d x_hat||_2 - 1)^2 over random interpolates x_hat of ``real`` and ``fake``
    ``[B, 4, L]``."""
    alpha = torch.rand(len(real), 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class WGANGP(L.LightningModule):
    """Batches of uint8 tokens ``[B, L]`` of one class; logs critic loss, Wasserstein estimate, GP, generator loss."""

    def __init__(self, length: int, latent: int, channels: int, lr: float, n_critic: int, gp_weight: float):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator = Generator(length, latent, channels)
        self.critic = Critic(length, channels)
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def _record(self, **values) -> None:
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value)
            self.counts[name] = self.counts.get(name, 0) + 1

    def epoch_means(self) -> dict[str, float]:
        """Means of the recorded losses since the last call."""
        out = {k: self.sums[k] / self.counts[k] for k in self.sums}
        self.sums, self.counts = {}, {}
        return out

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.hparams.latent, device=self.device)

    def training_step(self, batch, batch_idx):
        opt_g, opt_c = self.optimizers()
        real = one_hot(batch[0])
        fake = self.generator(self.noise(len(real))).detach()
        wasserstein = self.critic(real).mean() - self.critic(fake).mean()
        penalty = gradient_penalty(self.critic, real, fake)
        critic_loss = -wasserstein + self.hparams.gp_weight * penalty
        opt_c.zero_grad()
        self.manual_backward(critic_loss)
        opt_c.step()
        self._record(critic_loss=critic_loss.detach(), wasserstein=wasserstein.detach(), gp=penalty.detach())
        if (batch_idx + 1) % self.hparams.n_critic == 0:
            generator_loss = -self.critic(self.generator(self.noise(len(real)))).mean()
            opt_g.zero_grad()
            self.manual_backward(generator_loss)
            opt_g.step()
            self._record(generator_loss=generator_loss.detach())

    def configure_optimizers(self):
        betas = (0.5, 0.9)
        return (
            torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr, betas=betas),
            torch.optim.Adam(self.critic.parameters(), lr=self.hparams.lr, betas=betas),
        )

    @torch.no_grad()
    def sample(self, n: int, batch_size: int = 512) -> torch.Tensor:
        """``n`` generated sequences as uint8 tokens ``[n, L]`` (most probable base per position)."""
        self.generator.eval()
        out = [self.generator(self.noise(min(batch_size, n - s))).argmax(1) for s in range(0, n, batch_size)]
        return torch.cat(out).to(torch.uint8).cpu()
