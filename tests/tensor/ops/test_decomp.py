"""cholesky, eigvalsh (also generalized), the triangular solves and kron:
values on every backend against numpy, each reading only the triangle it
is told, gradients (second order where the graph allows), and errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.sandbox import linalg as sandbox_linalg
from symnet.tensor import slinalg as S
from tests.oracles import check_op, rand


def spd(n, seed=0, junk_above=False, junk_below=False):
    """A symmetric positive definite matrix; ``junk_*`` overwrite the
    triangle the op must not read with values that would change the result."""
    a = rand((n, n), "float64", rng=np.random.default_rng(seed))
    m = a @ a.T + n * np.eye(n)
    if junk_above:
        m[np.triu_indices(n, 1)] = 100.0
    if junk_below:
        m[np.tril_indices(n, -1)] = -100.0
    return m


def _sym_from(m, lower):
    t = np.tril(m) if lower else np.triu(m)
    return t + (np.tril(m, -1).T if lower else np.triu(m, 1).T)


def test_cholesky_lower_reads_the_lower_triangle():
    check_op(S.cholesky, [spd(4, junk_above=True)],
             ref=lambda m: np.linalg.cholesky(_sym_from(m, True)), grad=True, grad2=True)


def test_cholesky_upper_reads_the_upper_triangle():
    check_op(lambda x: S.cholesky(x, lower=False), [spd(4, junk_below=True)],
             ref=lambda m: np.linalg.cholesky(_sym_from(m, False)).T, grad=True)


def test_cholesky_reconstructs_in_a_graph():
    x = T.dmatrix("x")
    low = S.cholesky(x)
    m = spd(5)
    np.testing.assert_allclose(T.dot(low, low.T).eval({x: m}, mode="py"), m, atol=1e-12)


@pytest.mark.parametrize("lower", [True, False])
def test_eigvalsh(lower):
    m = spd(4, junk_above=lower, junk_below=not lower)
    check_op(lambda x: S.eigvalsh(x, lower=lower), [m],
             ref=lambda a: np.linalg.eigvalsh(_sym_from(a, lower)), grad=True)


def test_generalized_eigvalsh_against_the_eigenvalues_of_inv_b_a():
    a, b = spd(4, seed=1) - 3 * np.eye(4), spd(4, seed=2)

    def ref(x, y):
        return np.sort(np.linalg.eigvals(np.linalg.solve(y, x)).real)
    check_op(S.eigvalsh, [a, b], ref=ref, grad=True)


@pytest.mark.parametrize("which", ["lower", "upper"])
def test_triangular_solves_read_their_triangle(which):
    lower = which == "lower"
    a = spd(4, seed=3)
    b = rand((4, 2), rng=np.random.default_rng(4))
    fn = S.solve_lower_triangular if lower else S.solve_upper_triangular
    tri = np.tril if lower else np.triu
    check_op(fn, [a, b], ref=lambda x, y: np.linalg.solve(tri(x), y), grad=True)


def test_cho_solve():
    a, b = spd(4, seed=5), rand((4,), rng=np.random.default_rng(6))
    for lower in (True, False):
        check_op(lambda x, y: S.cho_solve((S.cholesky(x, lower=lower), lower), y), [a, b],
                 ref=np.linalg.solve)


@pytest.mark.parametrize("shapes", [((3,), (2,)), ((3, 4), (2, 5))])
def test_kron(shapes):
    rng = np.random.default_rng(7)
    check_op(S.kron, [rand(s, rng=rng) for s in shapes], ref=np.kron, grad=True)


def test_errors():
    with pytest.raises(TypeError, match="cholesky: A must be a matrix"):
        S.cholesky(T.dvector("v"))
    with pytest.raises(TypeError, match="kron: a and b must both be vectors or both matrices"):
        S.kron(T.dvector("v"), T.dmatrix("m"))
    x = T.dmatrix("x")
    f = symnet.function([x], S.cholesky(x), mode="py")
    with pytest.raises(np.linalg.LinAlgError, match=r"cholesky: the matrix of shape \(2, 2\) "
                                                   r"is not positive definite"):
        f(-np.eye(2))
    for mode in ("py", "numba"):
        g = symnet.function([x], S.eigvalsh(x), mode=mode)
        with pytest.raises(ValueError, match="eigvalsh: the matrix must be square"):
            g(np.ones((2, 3)))


def test_sandbox_linalg_names():
    assert sandbox_linalg.cholesky is S.cholesky and sandbox_linalg.matrix_inverse is \
        T.nlinalg.matrix_inverse
    x = T.dmatrix("x")
    m = spd(4)
    bound = sandbox_linalg.spectral_radius_bound(x, 3).eval({x: m}, mode="py")
    top = np.abs(np.linalg.eigvalsh(m)).max()
    assert top <= bound <= top * 4 ** (1 / 8) + 1e-9   # trace over n=4 values, 8th root
    assert sandbox_linalg.psd(x) is x
    with pytest.raises(ValueError, match="log2_exponent must be a positive int"):
        sandbox_linalg.spectral_radius_bound(x, 0)
