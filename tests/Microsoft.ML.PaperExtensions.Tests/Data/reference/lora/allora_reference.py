#!/usr/bin/env python3
# ALLoRA gradient reference (spec lora.md section 5.1; autograd check through section 5.2 option 2, the "detach
# trick", and option 1, a custom autograd function), float64, small random shapes.
#
# Regenerate (from this folder; Debian bookworm python3-torch 1.13, no other packages):
#
#   /usr/bin/python3 -B allora_reference.py allora-gradients.json
#
# Shapes: M = 5 tokens (already flattened [N, T, in] -> [M, in]), in = 6, out = 4, r = 3.
#   X [5, 6], W [4, 6] (frozen), A [3, 6], B [4, 3], G = dL/dY [5, 4], eta^2 = 4 (eta = 2). No bias, no dropout.
#   A = kaiming_uniform_(a = sqrt 5) = U(-1/sqrt(6), 1/sqrt(6)); X, G ~ N(0, 1); W, B ~ N(0, 0.5^2), and row 2 of B is
#   set to 0 so that row 2 of BA is zero and s_2 = eta exactly (property (f), equality case). Seed 20241102.
# Formulas (5.1), all with gamma = 1 (ALLoRA has no alpha/r scale):
#   y      = X W^T + X A^T B^T
#   n_i    = ||(B A)_{i,:}||_2   (row norm of the product, NOT squared); Gram trick: Gm = A A^T, q = rowsum((B Gm) (.) B),
#            n = sqrt(max(q, 0))
#   s_i    = 1 / sqrt(n_i + 1/eta^2)                          (0 < s_i <= eta, = eta iff row i of BA is zero)
#   ALLoRA : grad_B = diag(s) G^T (X A^T)   grad_A = B^T diag(s) G^T X   grad_X = G W + G B A  (unscaled)
#   LoRA   : grad_B = G^T (X A^T)           grad_A = B^T G^T X           grad_X = G W + G B A  (gamma = 1)
#   B = 0  : s = eta for every row, grad_A = 0 exactly, grad_B = eta * grad_B(LoRA), grad_X = G W
#   SGD    : first step from B = 0 with base lr l_b = 1e-4: B_1 = -l_b grad_B(ALLoRA) = -eta l_b grad_B(LoRA)
# The script computes every gradient analytically and by autograd (loss = sum(Y (.) G), so dL/dY = G):
#   option 2: y_x = X A.detach()^T B.detach()^T, y_p = (X.detach() A^T B^T) (.) s, y = X W^T + y_x + y_p - y_p.detach()
#   option 1: torch.autograd.Function returning X A^T B^T with backward [G B A, grad_A, grad_B]
# and asserts they agree (1e-12 relative) before writing. JSON numbers are printed with 17 significant digits ("%.17g"),
# which reads back to exactly the same double (the script checks the round trip).
import json
import math
import sys

sys.dont_write_bytecode = True
import torch  # noqa: E402

SEED = 20241102
M, IN, OUT, R = 5, 6, 4, 3
ETA2 = 4.0
LB = 1e-4
D = torch.float64


def inputs():
    g = torch.Generator().manual_seed(SEED)
    X = torch.randn(M, IN, generator=g, dtype=D)
    W = torch.randn(OUT, IN, generator=g, dtype=D) * 0.5
    bound = math.sqrt(1.0 / 3.0) * math.sqrt(3.0 / IN)                 # kaiming_uniform_(a = sqrt 5) = 1/sqrt(in)
    A = (torch.rand(R, IN, generator=g, dtype=D) * 2 - 1) * bound
    B = torch.randn(OUT, R, generator=g, dtype=D) * 0.5
    B[2] = 0.0
    G = torch.randn(M, OUT, generator=g, dtype=D)
    return X, W, A, B, G


# ---------------------------------------------------------------- analytic (5.1)
def row_norms_explicit(A, B):
    return torch.linalg.norm(B @ A, dim=1)


def row_norms_gram(A, B):
    Gm = A @ A.T                                                        # r x r
    q = ((B @ Gm) * B).sum(dim=1)
    return torch.sqrt(torch.clamp(q, min=0.0))


def factor(A, B, eta2):
    return 1.0 / torch.sqrt(row_norms_gram(A, B) + 1.0 / eta2)


def analytic(X, W, A, B, G, s):
    """s = None: plain LoRA with gamma = 1."""
    Gs = G if s is None else G * s[None, :]                             # G diag(s)
    return dict(y=X @ W.T + X @ A.T @ B.T,
                grad_A=B.T @ Gs.T @ X,                                  # B^T diag(s) G^T X
                grad_B=Gs.T @ (X @ A.T),                                # diag(s) G^T (X A^T)
                grad_X=G @ W + G @ B @ A)                               # unscaled


# ---------------------------------------------------------------- autograd, option 2 (detach trick)
def autograd_detach(X, W, A, B, G, eta2, scaled=True):
    X = X.clone().requires_grad_(True)
    A = A.clone().requires_grad_(True)
    B = B.clone().requires_grad_(True)
    with torch.no_grad():
        s = factor(A, B, eta2) if scaled else torch.ones(OUT, dtype=D)
    y_x = X @ A.detach().T @ B.detach().T
    y_p = (X.detach() @ A.T @ B.T) * s[None, :]
    y = X @ W.T + y_x + y_p - y_p.detach()
    (y * G).sum().backward()
    return dict(y=y.detach(), grad_A=A.grad, grad_B=B.grad, grad_X=X.grad)


# ---------------------------------------------------------------- autograd, option 1 (custom function)
class AlloraBranch(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, A, B, s):
        ctx.save_for_backward(X, A, B, s)
        return X @ A.T @ B.T

    @staticmethod
    def backward(ctx, Gy):
        X, A, B, s = ctx.saved_tensors
        Gs = Gy * s[None, :]
        return Gy @ B @ A, B.T @ Gs.T @ X, Gs.T @ (X @ A.T), None


def autograd_function(X, W, A, B, G, eta2):
    X = X.clone().requires_grad_(True)
    A = A.clone().requires_grad_(True)
    B = B.clone().requires_grad_(True)
    with torch.no_grad():
        s = factor(A, B, eta2)
    y = X @ W.T + AlloraBranch.apply(X, A, B, s)
    (y * G).sum().backward()
    return dict(y=y.detach(), grad_A=A.grad, grad_B=B.grad, grad_X=X.grad)


def close(a, b, tol=1e-12):
    scale = max(1.0, b.abs().max().item())
    return (a - b).abs().max().item() <= tol * scale


def check(name, ref, other):
    for k in ref:
        assert close(other[k], ref[k]), (name, k, (other[k] - ref[k]).abs().max().item())


def L(t):
    return t.tolist()


def dumps(o, ind=""):
    """JSON with floats as %.17g (round-trips exactly), scalar lists on one line, one matrix row per line."""
    if isinstance(o, float):
        return "%.17g" % o if math.isfinite(o) else json.dumps(o)
    if isinstance(o, (str, int, bool)) or o is None:
        return json.dumps(o)
    nxt = ind + "  "
    if isinstance(o, list):
        if all(not isinstance(v, (list, dict)) for v in o):
            return "[" + ", ".join(dumps(v) for v in o) + "]"
        return "[\n" + ",\n".join(nxt + dumps(v, nxt) for v in o) + "\n" + ind + "]"
    return "{\n" + ",\n".join(f"{nxt}{json.dumps(k)}: {dumps(v, nxt)}" for k, v in o.items()) + "\n" + ind + "}"


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "allora-gradients.json"
    torch.manual_seed(SEED)
    X, W, A, B, G = inputs()
    eta = math.sqrt(ETA2)

    n_exp, n_gram = row_norms_explicit(A, B), row_norms_gram(A, B)
    assert close(n_gram, n_exp, 1e-14), (n_gram - n_exp)
    s = factor(A, B, ETA2)
    assert bool((s > 0).all()) and bool((s <= eta).all())
    assert s[2].item() == eta and bool((s[[0, 1, 3]] < eta).all())     # equality iff the row of BA is zero

    al = analytic(X, W, A, B, G, s)
    lo = analytic(X, W, A, B, G, None)
    check("allora option 2", al, autograd_detach(X, W, A, B, G, ETA2))
    check("allora option 1", al, autograd_function(X, W, A, B, G, ETA2))
    check("lora autograd", lo, autograd_detach(X, W, A, B, G, ETA2, scaled=False))
    assert close(al["y"], lo["y"]) and close(al["grad_X"], lo["grad_X"])          # properties (a), (b)
    assert close(al["grad_B"], s[:, None] * lo["grad_B"])                            # property (c)
    # grad_A is NOT a rescaled LoRA grad_A (s sits between B^T and G^T): show the naive fix is wrong here
    naive = lo["grad_A"] * s.mean()
    assert not close(al["grad_A"], naive, 1e-6)

    # B = 0 (property (d))
    B0 = torch.zeros_like(B)
    s0 = factor(A, B0, ETA2)
    assert bool((s0 == eta).all())
    al0 = analytic(X, W, A, B0, G, s0)
    lo0 = analytic(X, W, A, B0, G, None)
    ag0 = autograd_detach(X, W, A, B0, G, ETA2)
    check("allora B=0 option 2", al0, ag0)
    check("allora B=0 option 1", al0, autograd_function(X, W, A, B0, G, ETA2))
    assert bool((ag0["grad_A"] == 0).all()) and bool((al0["grad_A"] == 0).all())
    assert close(al0["grad_B"], eta * lo0["grad_B"])
    assert close(al0["grad_X"], G @ W)
    sgd_B1 = B0 - LB * al0["grad_B"]                                                 # property (g)
    assert close(sgd_B1, -eta * LB * lo0["grad_B"])

    doc = {
        "description": ("ALLoRA reference (lora.md 5.1), float64. Matrices are row-major nested lists. Y = X W^T + "
                        "X A^T B^T (no bias, no dropout, gamma = 1); G = dL/dY; s_i = 1/sqrt(||(BA)_i|| + 1/eta^2); "
                        "ALLoRA grad_B = diag(s) G^T X A^T, grad_A = B^T diag(s) G^T X, grad_X = G W + G B A; "
                        "lora = same with s = 1; b_zero = the same inputs with B = 0. Checked in "
                        "allora_reference.py against autograd (detach trick, 5.2 option 2, and a custom "
                        "autograd.Function, option 1) to 1e-12 relative. Numbers: 17 significant digits (exact)."),
        "shapes": {"M": M, "in": IN, "out": OUT, "r": R},
        "inputs": {"X": L(X), "W": L(W), "A": L(A), "B": L(B), "G": L(G), "eta2": ETA2, "eta": eta,
                   "base_lr": LB, "note": "row 2 of B is zero, so s[2] == eta exactly"},
        "BA": L(B @ A),
        "row_norms_explicit": L(n_exp),
        "row_norms_gram": L(n_gram),
        "s": L(s),
        "y": L(al["y"]),
        "allora": {"grad_A": L(al["grad_A"]), "grad_B": L(al["grad_B"]), "grad_X": L(al["grad_X"])},
        "lora": {"grad_A": L(lo["grad_A"]), "grad_B": L(lo["grad_B"]), "grad_X": L(lo["grad_X"])},
        "b_zero": {"s": L(s0), "y": L(al0["y"]),
                   "allora": {"grad_A": L(al0["grad_A"]), "grad_B": L(al0["grad_B"]), "grad_X": L(al0["grad_X"])},
                   "lora": {"grad_A": L(lo0["grad_A"]), "grad_B": L(lo0["grad_B"]), "grad_X": L(lo0["grad_X"])},
                   "sgd_first_B": L(sgd_B1),
                   "note": "grad_A == 0 exactly; allora.grad_B == eta * lora.grad_B; sgd_first_B = -base_lr * "
                           "allora.grad_B = -eta * base_lr * lora.grad_B"},
    }
    with open(out_path, "w", newline="\n") as f:
        f.write(dumps(doc) + "\n")
    with open(out_path) as f:                                                        # round trip is exact
        back = json.load(f)
    assert back["allora"]["grad_A"] == L(al["grad_A"]) and back["inputs"]["X"] == L(X)
    print("s =", L(s), "\nrow norms =", L(n_exp), "\nall checks passed ->", out_path)


if __name__ == "__main__":
    main()
