"""The one-layer CNN of SI §3.2-3.3 as fast, exact float64 tensor code.

Model: u = w (*) I (valid cross-correlation of a k x k kernel w with an H x H image I, N = (H-k+1)^2
positions), s(u) = u*sigmoid(beta*u) (Swish), p = mean_x s(u_x), loss = BCE(sigmoid(p), 1) +
(alpha/2)|w|^2. X denotes the N x k^2 patch matrix (u = X w); it is never formed: X w and X^T v are
cross-correlations done with FFTs of size H x H. They are exact (no wrap-around) because every valid
position plus the kernel extent stays inside the image. The transforms are pruned: the kernel's
zero rows are not transformed, and X^T v only inverts the k rows it keeps.

Every operator takes a batch of kernels ``w`` of shape (B, k, k) (torch tensors, float64 by
default) and works on all of them at once.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["OneLayer"]

BCE_LOG_CLAMP = 100.0  # torch.nn.BCELoss clamps log() at -100; the logged loss does the same


def checkerboard(size: int) -> np.ndarray:
    """The authors' input: -1 where (m + n) is even, +1 otherwise."""
    idx = np.add.outer(np.arange(size), np.arange(size))
    return np.where(idx % 2 == 0, -1.0, 1.0)


def authors_kernel(size: int, seed: int) -> np.ndarray:
    """N(0, 1) kernel drawn as the authors do (legacy ``np.random.seed(seed); randn``)."""
    return np.random.RandomState(seed).randn(size, size)


class OneLayer:
    """The model's operators for one image and kernel size (the image FFT is computed once)."""

    def __init__(self, image: np.ndarray, ksize: int, beta: float = 1.0,
                 dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu") -> None:
        image = np.asarray(image)
        if image.ndim != 2 or image.shape[0] != image.shape[1]:
            raise ValueError(f"image must be a square 2-D array, got shape {image.shape}")
        if not 1 <= ksize <= image.shape[0]:
            raise ValueError(f"kernel size {ksize} must be between 1 and the image size "
                             f"{image.shape[0]}")
        self.dtype, self.device = dtype, torch.device(device)
        self.image = torch.as_tensor(image, dtype=dtype, device=self.device)
        self.size, self.ksize, self.beta = image.shape[0], ksize, float(beta)
        self.n_out = self.size - ksize + 1
        self._fimage = torch.fft.rfft2(self.image)

    def tensor(self, x) -> torch.Tensor:
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

    # --- the two linear operators -----------------------------------------------------------
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """u = X w, shape (B, n_out, n_out): u[x] = sum_m I[x + m] w[m]. A single (k, k) kernel
        gives a single (n_out, n_out) map."""
        if w.ndim == 2:
            return self.forward(w[None])[0]
        h = self.size
        spec = torch.fft.fft(torch.fft.rfft(w, n=h, dim=-1), n=h, dim=-2)
        return torch.fft.irfft2(self._fimage * spec.conj(), s=(h, h))[..., : self.n_out, : self.n_out]

    def adjoint(self, v: torch.Tensor) -> torch.Tensor:
        """X^T v for v on the valid positions, shape (B, k, k): sum_x v[x] I[x + m]. A single
        (n_out, n_out) map gives a single (k, k) kernel."""
        if v.ndim == 2:
            return self.adjoint(v[None])[0]
        h, k = self.size, self.ksize
        spec = self._fimage * torch.fft.rfft2(v, s=(h, h)).conj()
        rows = torch.fft.ifft(spec, dim=-2)[..., :k, :]
        return torch.fft.irfft(rows, n=h, dim=-1)[..., :k]

    # --- the model --------------------------------------------------------------------------
    def activations(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """sigmoid(beta u), s(u) = u sigmoid(beta u) and s'(u), sharing one sigmoid."""
        sg = torch.sigmoid(self.beta * u)
        return sg, u * sg, sg + self.beta * u * sg * (1.0 - sg)

    def pooled(self, u: torch.Tensor) -> torch.Tensor:
        """p = mean over positions of s(u) for u = X w, shape (B,)."""
        return self.activations(u)[1].mean(dim=(-2, -1))

    @staticmethod
    def bce(p: torch.Tensor) -> torch.Tensor:
        """BCE(sigmoid(p), 1) = softplus(-p), clamped at 100 like torch.nn.BCELoss."""
        return torch.clamp(torch.nn.functional.softplus(-p), max=BCE_LOG_CLAMP)

    def data_loss_grad(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(BCE loss, its exact gradient (sigmoid(p) - 1) X^T s'(u) / N) for each kernel."""
        _, s, ds = self.activations(self.forward(w))
        p = s.mean(dim=(-2, -1))
        scale = (torch.sigmoid(p) - 1.0) / self.n_out**2
        return self.bce(p), scale[:, None, None] * self.adjoint(ds)

    def hessian_vp(self, w: torch.Tensor, v: torch.Tensor, alpha: float) -> torch.Tensor:
        """Hessian of BCE + alpha/2 |w|^2 at one kernel ``w`` (k, k) applied to vectors v (B, k, k).

        H v = sigmoid'(p) (grad p . v) grad p + (sigmoid(p) - 1) X^T (s''(u) X v) / N + alpha v.
        """
        n = self.n_out**2
        u = self.forward(w[None])[0]
        sg, s, ds = self.activations(u)
        d2s = self.beta * sg * (1.0 - sg) * (2.0 + self.beta * u * (1.0 - 2.0 * sg))
        p = s.mean()
        grad_p = self.adjoint(ds[None])[0] / n
        sp = torch.sigmoid(p)
        curv = self.adjoint(d2s * self.forward(v)) / n
        dot = (v * grad_p).sum(dim=(-2, -1))
        return sp * (1 - sp) * dot[:, None, None] * grad_p + (sp - 1.0) * curv + alpha * v

    def gram(self, batch: int = 16) -> np.ndarray:
        """X^T X as a k^2 x k^2 numpy matrix, built a batch of columns at a time."""
        k2 = self.ksize**2
        gram = np.empty((k2, k2))
        eye = torch.eye(k2, dtype=self.dtype, device=self.device)
        for start in range(0, k2, batch):
            cols = eye[start:start + batch].reshape(-1, self.ksize, self.ksize)
            block = self.adjoint(self.forward(cols)).reshape(-1, k2)
            gram[:, start:start + batch] = block.T.cpu().numpy()
        return 0.5 * (gram + gram.T)
