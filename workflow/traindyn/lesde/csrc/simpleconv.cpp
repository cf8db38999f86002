// CPU kernels of the LE-SDE network (SimpleConv: conv 6@5x5 + ReLU + pool2, conv 16@5x5 + ReLU +
// pool2, fc 400-120-84-K) for M independent trials, built by `make setup` (traindyn.lesde.kernels).
//
// PyTorch has no vectorized float64 CPU convolution, and the one-sample SGD step of a trial is a
// few hundred tiny operations. Here every trial is one plain loop nest, vectorized by hand with
// GCC vector extensions (64-byte vectors: 8 doubles or 16 floats):
//   conv1 vectorized over output columns (28 of 32 lanes), all 6 filters in registers;
//   conv2 vectorized over its 16 output channels, a whole output row (10 columns) in registers;
//   the max-pools keep the first maximum of each window (PyTorch's rule), ReLU after the pool
//   (they commute), so a backward pass only visits the window maxima;
//   the fully connected layers of the step fuse the backward product W^T d and the update
//   W -= lr * d a^T into one pass over W (gradients always use the weights before the update).
// Trials are split over std::threads in contiguous ranges; each trial's arithmetic is the same
// sequence of operations whatever the range, so a trial trained alone or inside any batch gives
// bit-identical results. Tests: tests/test_lesde_kernels.py (against the torch reference network).

#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

namespace {

template <typename T> struct Vec;
template <> struct Vec<double> {
  typedef double type __attribute__((vector_size(64)));
  static constexpr int L = 8;
};
template <> struct Vec<float> {
  typedef float type __attribute__((vector_size(64)));
  static constexpr int L = 16;
};

template <typename V, typename T> inline V loadu(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V, typename T> inline void storeu(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}
template <typename V, typename T> inline V splat(T a) {
  V v = {};
  return v + a;
}

constexpr int IMG = 32, K5 = 5, C1 = 6, H1 = 28, P1 = 14, C2 = 16, H2 = 10, P2 = 5;
constexpr int XP = 40;                // padded input row: vector loads up to column 35
constexpr int FEAT = C2 * P2 * P2;    // 400
constexpr int F1 = 120, F2 = 84;

// Runs fn(lo, hi) on contiguous ranges of [0, n) in up to `threads` threads (this one included).
template <typename F> void split(int64_t n, int64_t threads, F fn) {
  int64_t t = std::max<int64_t>(1, std::min(threads, n));
  std::vector<std::thread> pool;
  for (int64_t i = 1; i < t; ++i)
    pool.emplace_back(fn, n * i / t, n * (i + 1) / t);
  fn(0, n / t);
  for (auto& th : pool) th.join();
}

// Image (C, 32, 32) -> zero-padded rows (C, 32, XP).
template <typename T> void pad_image(const T* x, int C, T* out) {
  std::fill(out, out + C * IMG * XP, T(0));
  for (int r = 0; r < C * IMG; ++r) std::memcpy(out + r * XP, x + r * IMG, IMG * sizeof(T));
}

// conv1 + bias on a padded image: h (6, 28, 32), columns 28..31 unused.
template <typename T> void conv1(const T* xin, int C, const T* w, const T* b, T* h) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::L, NV = 32 / L;
  for (int y = 0; y < H1; ++y) {
    V acc[C1][NV];
#pragma GCC unroll 8
    for (int o = 0; o < C1; ++o)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[o][v] = splat<V>(b[o]);
    for (int c = 0; c < C; ++c)
      for (int dy = 0; dy < K5; ++dy) {
        const T* row = xin + (c * IMG + y + dy) * XP;
        for (int dx = 0; dx < K5; ++dx) {
          V in[NV];
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) in[v] = loadu<V>(row + dx + v * L);
#pragma GCC unroll 8
          for (int o = 0; o < C1; ++o) {
            const T wk = w[((o * C + c) * K5 + dy) * K5 + dx];
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[o][v] += wk * in[v];
          }
        }
      }
    for (int o = 0; o < C1; ++o)
      for (int v = 0; v < NV; ++v) storeu(h + (o * H1 + y) * 32 + v * L, acc[o][v]);
  }
}

// conv2 + bias: p (6, 14, 14), wt (150, 16) = weights with the output channel last -> h (10, 10, 16).
template <typename T> void conv2(const T* p, const T* wt, const T* b, T* h) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::L, NV = C2 / L;
  V bias[NV];
  for (int v = 0; v < NV; ++v) bias[v] = loadu<V>(b + v * L);
  for (int y = 0; y < H2; ++y) {
    V acc[H2][NV];
#pragma GCC unroll 10
    for (int x = 0; x < H2; ++x)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[x][v] = bias[v];
    for (int c = 0; c < C1; ++c)
      for (int dy = 0; dy < K5; ++dy) {
        const T* row = p + (c * P1 + y + dy) * P1;
        const T* wr = wt + (c * K5 + dy) * K5 * C2;
        for (int dx = 0; dx < K5; ++dx) {
          V wv[NV];
#pragma GCC unroll 2
          for (int v = 0; v < NV; ++v) wv[v] = loadu<V>(wr + dx * C2 + v * L);
#pragma GCC unroll 10
          for (int x = 0; x < H2; ++x) {
            const T a = row[x + dx];
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[x][v] += a * wv[v];
          }
        }
      }
    for (int x = 0; x < H2; ++x)
      for (int v = 0; v < NV; ++v) storeu(h + (y * H2 + x) * C2 + v * L, acc[x][v]);
  }
}

// (16, 6, 5, 5) -> (150, 16).
template <typename T> void transpose_w2(const T* w, T* wt) {
  for (int o = 0; o < C2; ++o)
    for (int k = 0; k < C1 * K5 * K5; ++k) wt[k * C2 + o] = w[o * C1 * K5 * K5 + k];
}

// 2x2 max of a window given by its four values in PyTorch's scan order; returns the first maximum.
template <typename T> inline int argmax4(const T (&v)[4]) {
  int best = 0;
  for (int i = 1; i < 4; ++i)
    if (v[i] > v[best] || std::isnan(v[i])) best = i;
  return best;
}

// pool1 + ReLU: h (6, 28, 32) -> p (6, 14, 14); at[i] = flat index into h of the window maximum,
// or -1 where the pooled value is not positive (no gradient flows there).
template <typename T> void pool1(const T* h, T* p, int* at) {
  for (int o = 0; o < C1; ++o)
    for (int py = 0; py < P1; ++py)
      for (int px = 0; px < P1; ++px) {
        const int base = (o * H1 + 2 * py) * 32 + 2 * px;
        const int pos[4] = {base, base + 1, base + 32, base + 33};
        const T v[4] = {h[pos[0]], h[pos[1]], h[pos[2]], h[pos[3]]};
        const int k = argmax4(v);
        const int i = (o * P1 + py) * P1 + px;
        p[i] = v[k] > T(0) ? v[k] : T(0);
        if (at) at[i] = v[k] > T(0) ? pos[k] : -1;
      }
}

// pool2 + ReLU: h (10, 10, 16) -> f (400) in torch.flatten order (channel, row, column).
template <typename T> void pool2(const T* h, T* f, int* at) {
  for (int o = 0; o < C2; ++o)
    for (int py = 0; py < P2; ++py)
      for (int px = 0; px < P2; ++px) {
        const int base = ((2 * py) * H2 + 2 * px) * C2 + o;
        const int pos[4] = {base, base + C2, base + H2 * C2, base + (H2 + 1) * C2};
        const T v[4] = {h[pos[0]], h[pos[1]], h[pos[2]], h[pos[3]]};
        const int k = argmax4(v);
        const int i = (o * P2 + py) * P2 + px;
        f[i] = v[k] > T(0) ? v[k] : T(0);
        if (at) at[i] = v[k] > T(0) ? pos[k] : -1;
      }
}

template <typename T> T dot(const T* a, const T* b, int n) {
  using V = typename Vec<T>::type;
  constexpr int L = Vec<T>::L;
  V acc = {};
  int i = 0;
  for (; i + L <= n; i += L) acc += loadu<V>(a + i) * loadu<V>(b + i);
  T s = 0;
  for (int l = 0; l < L; ++l) s += acc[l];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// z = b + W a (W: rows x cols, row-major); with relu, z = max(z, 0).
template <typename T> void dense(const T* w, const T* b, const T* a, int rows, int cols, T* z,
                                 bool relu) {
  for (int j = 0; j < rows; ++j) {
    const T s = b[j] + dot(w + j * cols, a, cols);
    z[j] = relu && !(s > T(0)) ? T(0) : s;
  }
}

// Backward through one fully connected layer and its update, in one pass over W:
// d_in = W^T d (old W), then W -= lr * d a^T, b -= lr * d.
template <typename T> void dense_back_update(T* w, T* b, const T* a, const T* d, int rows,
                                             int cols, T lr, T* d_in) {
  if (d_in) std::fill(d_in, d_in + cols, T(0));
  for (int j = 0; j < rows; ++j) {
    const T dj = d[j];
    T* wr = w + j * cols;
    if (d_in)
      for (int i = 0; i < cols; ++i) d_in[i] += dj * wr[i];
    for (int i = 0; i < cols; ++i) wr[i] -= lr * (dj * a[i]);
    b[j] -= lr * dj;
  }
}

template <typename T> struct Params {
  T *w1, *b1, *w2, *b2, *f1w, *f1b, *f2w, *f2b, *f3w, *f3b;
  int C, K;
  // trial m's view
  Params at(int64_t m) const {
    Params p = *this;
    p.w1 += m * C1 * C * K5 * K5;
    p.b1 += m * C1;
    p.w2 += m * C2 * C1 * K5 * K5;
    p.b2 += m * C2;
    p.f1w += m * F1 * FEAT;
    p.f1b += m * F1;
    p.f2w += m * F2 * F1;
    p.f2b += m * F2;
    p.f3w += m * K * F2;
    p.f3b += m * K;
    return p;
  }
};

template <typename T> Params<T> unpack(const std::vector<torch::Tensor>& ps) {
  TORCH_CHECK(ps.size() == 10, "expected the 10 stacked SimpleConv parameters");
  for (const auto& p : ps) {
    TORCH_CHECK(p.device().is_cpu() && p.is_contiguous(), "parameters must be contiguous CPU tensors");
    TORCH_CHECK(p.scalar_type() == ps[0].scalar_type(), "parameters must share one dtype");
  }
  const int64_t m = ps[0].size(0);
  const int C = ps[0].size(2), K = ps[8].size(1);
  const std::vector<std::vector<int64_t>> shapes = {
      {m, C1, C, K5, K5}, {m, C1}, {m, C2, C1, K5, K5}, {m, C2}, {m, F1, FEAT},
      {m, F1}, {m, F2, F1}, {m, F2}, {m, K, F2}, {m, K}};
  for (size_t i = 0; i < ps.size(); ++i)
    TORCH_CHECK(ps[i].sizes().vec() == shapes[i], "parameter ", i, " has shape ", ps[i].sizes());
  auto d = [&](int i) { return ps[i].data_ptr<T>(); };
  return {d(0), d(1), d(2), d(3), d(4), d(5), d(6), d(7), d(8), d(9), C, K};
}

template <typename T>
void features_impl(const std::vector<torch::Tensor>& ps, const torch::Tensor& x, torch::Tensor& out,
                   int64_t threads) {
  const Params<T> prm = unpack<T>(ps);
  const int64_t m = ps[0].size(0), n = x.size(0);
  const int C = prm.C;
  std::vector<T> xpad(n * C * IMG * XP);
  const T* xs = x.data_ptr<T>();
  for (int64_t i = 0; i < n; ++i) pad_image(xs + i * C * IMG * IMG, C, xpad.data() + i * C * IMG * XP);
  T* o = out.data_ptr<T>();
  split(m, threads, [&](int64_t lo, int64_t hi) {
    std::vector<T> h1(C1 * H1 * 32), p1(C1 * P1 * P1), h2(H2 * H2 * C2), wt(C1 * K5 * K5 * C2);
    for (int64_t t = lo; t < hi; ++t) {
      const Params<T> p = prm.at(t);
      transpose_w2(p.w2, wt.data());
      for (int64_t i = 0; i < n; ++i) {
        conv1(xpad.data() + i * C * IMG * XP, C, p.w1, p.b1, h1.data());
        pool1<T>(h1.data(), p1.data(), nullptr);
        conv2(p1.data(), wt.data(), p.b2, h2.data());
        pool2<T>(h2.data(), o + (t * n + i) * FEAT, nullptr);
      }
    }
  });
}

template <typename T>
void step_impl(const std::vector<torch::Tensor>& ps, const torch::Tensor& x, const torch::Tensor& y,
               double lr_, torch::Tensor& logits, torch::Tensor& losses, int64_t threads) {
  const Params<T> prm = unpack<T>(ps);
  const int64_t m = ps[0].size(0);
  const int C = prm.C, K = prm.K;
  const T lr = static_cast<T>(lr_);
  const T* xs = x.data_ptr<T>();
  const int64_t* ys = y.data_ptr<int64_t>();
  T* lg = logits.data_ptr<T>();
  T* ls = losses.data_ptr<T>();
  split(m, threads, [&](int64_t lo, int64_t hi) {
    std::vector<T> xin(C * IMG * XP), h1(C1 * H1 * 32), p1(C1 * P1 * P1), h2(H2 * H2 * C2),
        wt(C1 * K5 * K5 * C2), f(FEAT), a1(F1), a2(F2), d3(K), d2(F2), d1(F1), df(FEAT),
        dp1(C1 * P1 * P1), gw2(C2 * C1 * K5 * K5), gb2(C2), gw1(C1 * C * K5 * K5), gb1(C1);
    std::vector<int> at1(C1 * P1 * P1), at2(FEAT);
    for (int64_t t = lo; t < hi; ++t) {
      const Params<T> p = prm.at(t);
      // forward
      pad_image(xs + t * C * IMG * IMG, C, xin.data());
      conv1(xin.data(), C, p.w1, p.b1, h1.data());
      pool1(h1.data(), p1.data(), at1.data());
      transpose_w2(p.w2, wt.data());
      conv2(p1.data(), wt.data(), p.b2, h2.data());
      pool2(h2.data(), f.data(), at2.data());
      dense(p.f1w, p.f1b, f.data(), F1, FEAT, a1.data(), true);
      dense(p.f2w, p.f2b, a1.data(), F2, F1, a2.data(), true);
      T* z = lg + t * K;
      dense(p.f3w, p.f3b, a2.data(), K, F2, z, false);
      // cross-entropy and its gradient: softmax - onehot
      T mx = z[0];
      for (int k = 1; k < K; ++k) mx = std::max(mx, z[k]);
      T s = 0;
      for (int k = 0; k < K; ++k) s += std::exp(z[k] - mx);
      const T lse = mx + std::log(s);
      const int64_t label = ys[t];  // checked in range before the threads start
      ls[t] = lse - z[label];
      for (int k = 0; k < K; ++k) d3[k] = std::exp(z[k] - lse) - (k == label ? T(1) : T(0));
      // fully connected layers: backward and update
      dense_back_update(p.f3w, p.f3b, a2.data(), d3.data(), K, F2, lr, d2.data());
      for (int i = 0; i < F2; ++i) d2[i] = a2[i] > T(0) ? d2[i] : T(0);
      dense_back_update(p.f2w, p.f2b, a1.data(), d2.data(), F2, F1, lr, d1.data());
      for (int i = 0; i < F1; ++i) d1[i] = a1[i] > T(0) ? d1[i] : T(0);
      dense_back_update(p.f1w, p.f1b, f.data(), d1.data(), F1, FEAT, lr, df.data());
      // conv2: only the window maxima with a positive value carry gradient
      std::fill(gw2.begin(), gw2.end(), T(0));
      std::fill(gb2.begin(), gb2.end(), T(0));
      std::fill(dp1.begin(), dp1.end(), T(0));
      for (int i = 0; i < FEAT; ++i) {
        if (at2[i] < 0) continue;
        const T g = df[i];
        const int o = at2[i] % C2, pos = at2[i] / C2, y0 = pos / H2, x0 = pos % H2;
        gb2[o] += g;
        T* gw = gw2.data() + o * C1 * K5 * K5;
        const T* w = p.w2 + o * C1 * K5 * K5;
        for (int c = 0; c < C1; ++c)
          for (int dy = 0; dy < K5; ++dy) {
            const int r = (c * P1 + y0 + dy) * P1 + x0, k = (c * K5 + dy) * K5;
            for (int dx = 0; dx < K5; ++dx) {
              gw[k + dx] += g * p1[r + dx];
              dp1[r + dx] += g * w[k + dx];
            }
          }
      }
      // conv1 (its input needs no gradient)
      std::fill(gw1.begin(), gw1.end(), T(0));
      std::fill(gb1.begin(), gb1.end(), T(0));
      for (int i = 0; i < C1 * P1 * P1; ++i) {
        if (at1[i] < 0) continue;
        const T g = dp1[i];
        const int o = i / (P1 * P1), y0 = (at1[i] / 32) % H1, x0 = at1[i] % 32;
        gb1[o] += g;
        T* gw = gw1.data() + o * C * K5 * K5;
        for (int c = 0; c < C; ++c)
          for (int dy = 0; dy < K5; ++dy) {
            const T* row = xin.data() + (c * IMG + y0 + dy) * XP + x0;
            for (int dx = 0; dx < K5; ++dx) gw[(c * K5 + dy) * K5 + dx] += g * row[dx];
          }
      }
      for (size_t i = 0; i < gw2.size(); ++i) p.w2[i] -= lr * gw2[i];
      for (int i = 0; i < C2; ++i) p.b2[i] -= lr * gb2[i];
      for (size_t i = 0; i < gw1.size(); ++i) p.w1[i] -= lr * gw1[i];
      for (int i = 0; i < C1; ++i) p.b1[i] -= lr * gb1[i];
    }
  });
}

// Conv features (M, N, 400) of N shared images (N, C, 32, 32) for every trial.
torch::Tensor shared_features(std::vector<torch::Tensor> params, torch::Tensor x, int64_t threads) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == params[0].size(2) && x.size(2) == IMG && x.size(3) == IMG,
              "images must be (N, C, 32, 32) with the network's C channels");
  x = x.contiguous().to(params[0].scalar_type());
  auto out = torch::empty({params[0].size(0), x.size(0), FEAT}, params[0].options());
  AT_DISPATCH_FLOATING_TYPES(params[0].scalar_type(), "shared_features",
                             [&] { features_impl<scalar_t>(params, x, out, threads); });
  return out;
}

// One-sample SGD (momentum 0) of every trial, in place: image x[m] with label y[m] for trial m.
// Returns the pre-update logits (M, K) and cross-entropy losses (M,).
std::vector<torch::Tensor> sgd_step(std::vector<torch::Tensor> params, torch::Tensor x,
                                    torch::Tensor y, double lr, int64_t threads) {
  const int64_t m = params[0].size(0);
  TORCH_CHECK(x.dim() == 4 && x.size(0) == m && x.size(1) == params[0].size(2) && x.size(2) == IMG &&
                  x.size(3) == IMG,
              "images must be (M, C, 32, 32) with the network's C channels");
  TORCH_CHECK(y.dim() == 1 && y.size(0) == m, "labels must be (M,)");
  x = x.contiguous().to(params[0].scalar_type());
  y = y.contiguous().to(torch::kLong);
  TORCH_CHECK(m == 0 || (y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < params[8].size(1)),
              "labels must be in [0, K)");
  auto logits = torch::empty({m, params[8].size(1)}, params[0].options());
  auto losses = torch::empty({m}, params[0].options());
  AT_DISPATCH_FLOATING_TYPES(params[0].scalar_type(), "sgd_step",
                             [&] { step_impl<scalar_t>(params, x, y, lr, logits, losses, threads); });
  return {logits, losses};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("shared_features", &shared_features, "conv features of shared images for every trial");
  m.def("sgd_step", &sgd_step, "one-sample SGD step of every trial, in place");
}
