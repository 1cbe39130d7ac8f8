"""Reverse-mode derivatives of loss (attention.py:79) with respect to Wc, bc, gain, bias, Wq, Wk, Wv, w_out.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_loss(Wc, bc, gain, bias, Wq, Wk, Wv, w_out, X, y):
    # forward sweep
    # line 80: H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    v1 = conv1d(X, Wc)
    v2 = v1 + bc
    v3 = np.tanh(v2)
    H, H_res = fwd_layer_norm_wrt_h_gain_bias(v3, gain, bias, 1e-05)
    # line 81: A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    A, A_res = fwd_attention(H, Wq, Wk, Wv)
    # line 82: prediction = np.mean(A, axis=1) @ w_out
    v4 = np.mean(A, axis=1)
    prediction = v4 @ w_out
    # line 83: return np.mean((prediction - y) ** 2)
    v5 = prediction - y
    v6 = v5 ** 2
    out = np.mean(v6)
    check_scalar(out, 'loss')
    # backward sweep
    # line 83: return np.mean((prediction - y) ** 2)
    prediction_bar = unbroadcast(
        2 * v5 * unreduce(1.0 / element_count(v6), v6), prediction)
    # line 82: prediction = np.mean(A, axis=1) @ w_out
    w_out_bar = matmul_bar_b(prediction_bar, v4, w_out)
    A_bar = unreduce(
        matmul_bar_a(prediction_bar, v4, w_out)
        * (element_count(v4) / element_count(A)), A, 1)
    # line 81: A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    A_H_bar, A_Wq_bar, A_Wk_bar, A_Wv_bar = bwd_attention(A_res, A_bar)
    H_bar = A_H_bar
    Wq_bar = A_Wq_bar
    Wk_bar = A_Wk_bar
    Wv_bar = A_Wv_bar
    # line 80: H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    H_h_bar, H_gain_bar, H_bias_bar = bwd_layer_norm_wrt_h_gain_bias(H_res,
            H_bar)
    v3_bar = H_h_bar
    gain_bar = H_gain_bar
    bias_bar = H_bias_bar
    v2_bar = v3_bar * (1.0 - v3 * v3)
    v1_bar = unbroadcast(v2_bar, v1)
    bc_bar = unbroadcast(v2_bar, bc)
    Wc_bar = vjp_conv1d_wrt_w(X, Wc, v1_bar)
    return (as_gradient(Wc_bar, Wc), as_gradient(bc_bar, bc),
            as_gradient(gain_bar, gain), as_gradient(bias_bar, bias),
            as_gradient(Wq_bar, Wq), as_gradient(Wk_bar, Wk),
            as_gradient(Wv_bar, Wv), as_gradient(w_out_bar, w_out))


def value_and_grad_loss(Wc, bc, gain, bias, Wq, Wk, Wv, w_out, X, y):
    # forward sweep
    # line 80: H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    v1 = conv1d(X, Wc)
    v2 = v1 + bc
    v3 = np.tanh(v2)
    H, H_res = fwd_layer_norm_wrt_h_gain_bias(v3, gain, bias, 1e-05)
    # line 81: A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    A, A_res = fwd_attention(H, Wq, Wk, Wv)
    # line 82: prediction = np.mean(A, axis=1) @ w_out
    v4 = np.mean(A, axis=1)
    prediction = v4 @ w_out
    # line 83: return np.mean((prediction - y) ** 2)
    v5 = prediction - y
    v6 = v5 ** 2
    out = np.mean(v6)
    check_scalar(out, 'loss')
    # backward sweep
    # line 83: return np.mean((prediction - y) ** 2)
    prediction_bar = unbroadcast(
        2 * v5 * unreduce(1.0 / element_count(v6), v6), prediction)
    # line 82: prediction = np.mean(A, axis=1) @ w_out
    w_out_bar = matmul_bar_b(prediction_bar, v4, w_out)
    A_bar = unreduce(
        matmul_bar_a(prediction_bar, v4, w_out)
        * (element_count(v4) / element_count(A)), A, 1)
    # line 81: A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    A_H_bar, A_Wq_bar, A_Wk_bar, A_Wv_bar = bwd_attention(A_res, A_bar)
    H_bar = A_H_bar
    Wq_bar = A_Wq_bar
    Wk_bar = A_Wk_bar
    Wv_bar = A_Wv_bar
    # line 80: H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    H_h_bar, H_gain_bar, H_bias_bar = bwd_layer_norm_wrt_h_gain_bias(H_res,
            H_bar)
    v3_bar = H_h_bar
    gain_bar = H_gain_bar
    bias_bar = H_bias_bar
    v2_bar = v3_bar * (1.0 - v3 * v3)
    v1_bar = unbroadcast(v2_bar, v1)
    bc_bar = unbroadcast(v2_bar, bc)
    Wc_bar = vjp_conv1d_wrt_w(X, Wc, v1_bar)
    return (out,
            (as_gradient(Wc_bar, Wc), as_gradient(bc_bar, bc),
             as_gradient(gain_bar, gain), as_gradient(bias_bar, bias),
             as_gradient(Wq_bar, Wq), as_gradient(Wk_bar, Wk),
             as_gradient(Wv_bar, Wv), as_gradient(w_out_bar, w_out)))


def vjp_loss(Wc, bc, gain, bias, Wq, Wk, Wv, w_out, X, y, out_bar):
    # forward sweep
    # line 80: H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    v1 = conv1d(X, Wc)
    v2 = v1 + bc
    v3 = np.tanh(v2)
    H, H_res = fwd_layer_norm_wrt_h_gain_bias(v3, gain, bias, 1e-05)
    # line 81: A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    A, A_res = fwd_attention(H, Wq, Wk, Wv)
    # line 82: prediction = np.mean(A, axis=1) @ w_out
    v4 = np.mean(A, axis=1)
    prediction = v4 @ w_out
    # line 83: return np.mean((prediction - y) ** 2)
    v5 = prediction - y
    v6 = v5 ** 2
    out = np.mean(v6)
    # backward sweep
    # line 83: return np.mean((prediction - y) ** 2)
    prediction_bar = unbroadcast(
        2 * v5 * unreduce(out_bar / element_count(v6), v6), prediction)
    # line 82: prediction = np.mean(A, axis=1) @ w_out
    w_out_bar = matmul_bar_b(prediction_bar, v4, w_out)
    A_bar = unreduce(
        matmul_bar_a(prediction_bar, v4, w_out)
        * (element_count(v4) / element_count(A)), A, 1)
    # line 81: A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    A_H_bar, A_Wq_bar, A_Wk_bar, A_Wv_bar = bwd_attention(A_res, A_bar)
    H_bar = A_H_bar
    Wq_bar = A_Wq_bar
    Wk_bar = A_Wk_bar
    Wv_bar = A_Wv_bar
    # line 80: H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    H_h_bar, H_gain_bar, H_bias_bar = bwd_layer_norm_wrt_h_gain_bias(H_res,
            H_bar)
    v3_bar = H_h_bar
    gain_bar = H_gain_bar
    bias_bar = H_bias_bar
    v2_bar = v3_bar * (1.0 - v3 * v3)
    v1_bar = unbroadcast(v2_bar, v1)
    bc_bar = unbroadcast(v2_bar, bc)
    Wc_bar = vjp_conv1d_wrt_w(X, Wc, v1_bar)
    return (as_gradient(Wc_bar, Wc), as_gradient(bc_bar, bc),
            as_gradient(gain_bar, gain), as_gradient(bias_bar, bias),
            as_gradient(Wq_bar, Wq), as_gradient(Wk_bar, Wk),
            as_gradient(Wv_bar, Wv), as_gradient(w_out_bar, w_out))


def layer_norm(h, gain, bias, eps=1e-05):
    # line 54: centred = h - np.mean(h, axis=-1, keepdims=True)
    v1 = np.mean(h, axis=-1, keepdims=True)
    centred = h - v1
    # line 55: variance = np.mean(centred ** 2, axis=-1, keepdims=True)
    v2 = centred ** 2
    variance = np.mean(v2, axis=-1, keepdims=True)
    # line 56: return centred / np.sqrt(variance + eps) * gain + bias
    v3 = variance + eps
    v4 = np.sqrt(v3)
    v5 = centred / v4
    v6 = v5 * gain
    out = v6 + bias
    return out


def attention(H, Wq, Wk, Wv):
    # line 71: Q = H @ Wq
    Q = H @ Wq
    # line 72: K = H @ Wk
    K = H @ Wk
    # line 73: V = H @ Wv
    V = H @ Wv
    # line 74: scores = np.einsum("btd,bsd->bts", Q, K) / np.sqrt(Q.shape[-1])
    v1 = np.einsum('btd,bsd->bts', Q, K)
    v2 = Q.shape
    v3 = v2[-1]
    v4 = np.sqrt(v3)
    scores = v1 / v4
    # line 75: weights = softmax(scores, axis=-1)
    weights = softmax(scores, -1)
    # line 76: return np.einsum("bts,bsd->btd", weights, V)
    out = np.einsum('bts,bsd->btd', weights, V)
    return out


def conv1d(x, w):
    # line 61: taps = w.shape[0]
    v1 = w.shape
    taps = v1[0]
    # line 62: steps = x.shape[1] - taps + 1
    v2 = x.shape
    v3 = v2[1]
    v4 = v3 - taps
    steps = v4 + 1
    # line 63: out = x[:, 0:steps, :] @ w[0]
    v5 = x[:, 0:steps, :]
    v6 = w[0]
    out = v5 @ v6
    # line 64: for k in range(1, taps):
    v7 = range(1, taps)
    out_1 = out
    for k in v7:
        # line 65: out = out + x[:, k:k + steps, :] @ w[k]
        v8 = k + steps
        v9 = x[:, k:v8, :]
        v10 = w[k]
        v11 = v9 @ v10
        out_2 = out_1 + v11
        out_1 = out_2
    return out_1


def fwd_layer_norm_wrt_h_gain_bias(h, gain, bias, eps):
    # forward sweep
    # line 54: centred = h - np.mean(h, axis=-1, keepdims=True)
    v1 = np.mean(h, axis=-1, keepdims=True)
    centred = h - v1
    # line 55: variance = np.mean(centred ** 2, axis=-1, keepdims=True)
    v2 = centred ** 2
    variance = np.mean(v2, axis=-1, keepdims=True)
    # line 56: return centred / np.sqrt(variance + eps) * gain + bias
    v3 = variance + eps
    v4 = np.sqrt(v3)
    v5 = centred / v4
    v6 = v5 * gain
    out = v6 + bias
    return out, (v6, bias, v5, gain, centred, v4, v2, variance, h, v1)


def bwd_layer_norm_wrt_h_gain_bias(residuals, out_bar):
    v6, bias, v5, gain, centred, v4, v2, variance, h, v1 = residuals
    # backward sweep
    # line 56: return centred / np.sqrt(variance + eps) * gain + bias
    v6_bar = unbroadcast(out_bar, v6)
    bias_bar = unbroadcast(out_bar, bias)
    v5_bar = unbroadcast(v6_bar * gain, v5)
    gain_bar = unbroadcast(v6_bar * v5, gain)
    centred_bar = unbroadcast(v5_bar / v4, centred)
    # line 55: variance = np.mean(centred ** 2, axis=-1, keepdims=True)
    centred_bar += (2 * centred
                    * unreduce(
                        unbroadcast(
                            -unbroadcast(v5_bar * v5, v4) / v4 * 0.5 / v4,
                            variance)
                        * (element_count(variance) / element_count(v2)), v2,
                        -1, True))
    # line 54: centred = h - np.mean(h, axis=-1, keepdims=True)
    h_bar = unbroadcast(centred_bar, h)
    h_bar = (h_bar
             + unreduce(
                 -unbroadcast(centred_bar, v1)
                 * (element_count(v1) / element_count(h)), h, -1, True))
    return h_bar, gain_bar, writable(bias_bar)


def softmax(z, axis=-1):
    # line 48: e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    v1 = np.max(z, axis=axis, keepdims=True)
    v2 = z - v1
    e = np.exp(v2)
    # line 49: return e / np.sum(e, axis=axis, keepdims=True)
    v3 = np.sum(e, axis=axis, keepdims=True)
    out = e / v3
    return out


def fwd_attention(H, Wq, Wk, Wv):
    # forward sweep
    # line 71: Q = H @ Wq
    Q = H @ Wq
    # line 72: K = H @ Wk
    K = H @ Wk
    # line 73: V = H @ Wv
    V = H @ Wv
    # line 74: scores = np.einsum("btd,bsd->bts", Q, K) / np.sqrt(Q.shape[-1])
    v1 = np.einsum('btd,bsd->bts', Q, K)
    v2 = Q.shape
    v3 = v2[-1]
    v4 = np.sqrt(v3)
    scores = v1 / v4
    # line 75: weights = softmax(scores, axis=-1)
    weights, weights_res = fwd_softmax_wrt_z(scores, -1)
    # line 76: return np.einsum("bts,bsd->btd", weights, V)
    out = np.einsum('bts,bsd->btd', weights, V)
    return out, (V, weights, weights_res, v1, v4, K, Q, H, Wv, Wk, Wq)


def bwd_attention(residuals, out_bar):
    V, weights, weights_res, v1, v4, K, Q, H, Wv, Wk, Wq = residuals
    # backward sweep
    # line 76: return np.einsum("bts,bsd->btd", weights, V)
    weights_bar = np.einsum('btd,bsd->bts', out_bar, V)
    V_bar = np.einsum('btd,bts->bsd', out_bar, weights)
    # line 75: weights = softmax(scores, axis=-1)
    scores_bar = bwd_softmax_wrt_z(weights_res, weights_bar)
    # line 74: scores = np.einsum("btd,bsd->bts", Q, K) / np.sqrt(Q.shape[-1])
    v1_bar = unbroadcast(scores_bar / v4, v1)
    Q_bar = np.einsum('bts,bsd->btd', v1_bar, K)
    K_bar = np.einsum('bts,btd->bsd', v1_bar, Q)
    # line 73: V = H @ Wv
    H_bar = matmul_bar_a(V_bar, H, Wv)
    Wv_bar = matmul_bar_b(V_bar, H, Wv)
    # line 72: K = H @ Wk
    H_bar = H_bar + matmul_bar_a(K_bar, H, Wk)
    Wk_bar = matmul_bar_b(K_bar, H, Wk)
    # line 71: Q = H @ Wq
    H_bar += matmul_bar_a(Q_bar, H, Wq)
    Wq_bar = matmul_bar_b(Q_bar, H, Wq)
    return H_bar, Wq_bar, Wk_bar, Wv_bar


def vjp_conv1d_wrt_w(x, w, out_bar1):
    tape = []
    # forward sweep
    # line 61: taps = w.shape[0]
    v1 = w.shape
    taps = v1[0]
    # line 62: steps = x.shape[1] - taps + 1
    v2 = x.shape
    v3 = v2[1]
    v4 = v3 - taps
    steps = v4 + 1
    # line 63: out = x[:, 0:steps, :] @ w[0]
    v5 = x[:, 0:steps, :]
    v6 = w[0]
    out = v5 @ v6
    # line 64: for k in range(1, taps):
    v7 = range(1, taps)
    out_1 = out
    for k in v7:
        # line 65: out = out + x[:, k:k + steps, :] @ w[k]
        v8 = k + steps
        v9 = x[:, k:v8, :]
        v10 = w[k]
        v11 = v9 @ v10
        out_2 = out_1 + v11
        tape.append((out_1, v9, v10, v11))
        out_1 = out_2
    # backward sweep
    # line 64: for k in range(1, taps):
    w_bar = zeros_bar(w)
    out_1_bar = out_bar1
    for k in reversed(v7):
        out_1, v9, v10, v11 = tape.pop()
        out_2_bar = out_1_bar
        # line 65: out = out + x[:, k:k + steps, :] @ w[k]
        out_1_bar = unbroadcast(out_2_bar, out_1)
        scatter_add(w_bar, k,
                    matmul_bar_b(unbroadcast(out_2_bar, v11), v9, v10))
    # line 63: out = x[:, 0:steps, :] @ w[0]
    scatter_add(w_bar, 0, matmul_bar_b(out_1_bar, v5, v6))
    return w_bar


def fwd_softmax_wrt_z(z, axis):
    # forward sweep
    # line 48: e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    v1 = np.max(z, axis=axis, keepdims=True)
    v1_mask = z == v1
    v2 = z - v1
    e = np.exp(v2)
    # line 49: return e / np.sum(e, axis=axis, keepdims=True)
    v3 = np.sum(e, axis=axis, keepdims=True)
    out = e / v3
    return out, (e, v3, axis, out, z, v1_mask, v1)


def bwd_softmax_wrt_z(residuals, out_bar):
    e, v3, axis, out, z, v1_mask, v1 = residuals
    # backward sweep
    # line 49: return e / np.sum(e, axis=axis, keepdims=True)
    e_bar = unbroadcast(out_bar / v3, e)
    e_bar += unreduce(-unbroadcast(out_bar * out, v3) / v3, e, axis, True)
    # line 48: e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    v2_bar = e_bar * e
    z_bar = unbroadcast(v2_bar, z)
    z_bar = z_bar + tie_share(-unbroadcast(v2_bar, v1), v1_mask, axis, True)
    return z_bar


# --- run-time helpers the functions above call (NumPy only) ---

class CheckFailed(ValueError):
    """A run-time check of generated code failed: the arguments are outside what the derivative
    was made for (a non-scalar output for a gradient, a wide matrix for qr's rule)."""

    arguments_at_fault = True  # the arguments are outside the rule; the code is not at fault


class NotScalar(CheckFailed):
    """The function a gradient is made for returned an array, not a scalar: ``name`` is the
    function's, ``shape`` the array's."""

    def __init__(self, name, shape):
        super().__init__(f"{name} must return a scalar, not shape {shape}; use vjp_{name}")
        self.name = name
        self.shape = shape


def check_scalar(value, name):
    """Raise NotScalar (a CheckFailed, a ValueError) unless ``value`` is 0-d: a gradient needs
    a scalar."""
    # numbers first (np.float64 is a float): np.ndim costs more than the whole of a scalar f
    if isinstance(value, (float, int, np.generic)):
        return
    if (value.ndim if type(value) is np.ndarray else np.ndim(value)) != 0:
        raise NotScalar(name, np.shape(value))


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into: float zeros of its shape (0.0 for a number,
    one zero adjoint per element for a tuple, per entry for a dict)."""
    # float64 arrays first, by the dtype's letter (comparing dtypes costs more than np.zeros)
    if type(x) is np.ndarray and x.dtype.char == "d":
        return np.zeros(x.shape)  # what zeros_like gives here, without its Python-level cost
    if isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, (tuple, list)):
        return tuple_bar(zeros_bar(e) for e in x)
    if isinstance(x, dict):
        return dict_bar((k, zeros_bar(e)) for k, e in x.items())
    if isinstance(x, np.generic):
        return 0.0
    if not hasattr(x, "__array_function__"):  # a range, a sequence NumPy reads as an array
        return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
    if type(x) is np.ndarray and x.dtype == object and x.ndim == 1:  # ragged pieces
        ragged = np.empty(len(x), dtype=object)  # (unconcatenate's): one zero each
        for i, e in enumerate(x):
            ragged[i] = zeros_bar(e)
        return ragged
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))  # any array type


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
    if type(g) is float and type(x) is float:  # the common scalar case, without np.shape
        return g
    # fast paths by type: np.shape and np.sum cost ~0.5 us each, more than small arrays' work
    if type(g) is np.ndarray:
        if type(x) is np.ndarray:
            if g.shape == x.shape:
                return g
            extra = g.ndim - x.ndim
            if extra > 0 and g.shape[extra:] == x.shape:  # leading axes only (a bias): sum them
                return np.add.reduce(g, axis=tuple(range(extra)))
        elif g.shape and isinstance(x, (float, int, np.generic)):  # a number: the total
            if g.size and not any(g.strides) and g.dtype == np.float64:
                return g.item(0) * g.size  # one value repeated (unreduce's view): no pass
            return np.add.reduce(g, axis=None)  # g.sum() without its Python wrapper
    elif isinstance(g, (float, int, np.generic)) and isinstance(x, (float, int, np.generic)):
        return g
    elif isinstance(x, (tuple, list)):  # a tuple's adjoint (tuple_bar) adds element by element
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    if isinstance(x, (tuple, list)) and not fits_shape(np.shape(g), shape):  # p + q joins tuples
        raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a tuple or "
                         f"list read as an array of shape {shape} (is it joined with + or "
                         f"repeated with *? that is differentiated in forward mode only)")
    extra = np.ndim(g) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    # (g may have fewer axes than x: the 0.0 a list slot's adjoint is reset to after a write)
    lead = len(shape) - np.ndim(g)
    axes = tuple(i - lead for i, n in enumerate(shape[lead:], lead)
                 if n == 1 and np.shape(g)[i - lead] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if not fits_shape(np.shape(g), shape):
        raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a value of "
                         f"shape {shape}")
    return g


def fits_shape(g_shape, shape):
    """True if an adjoint of ``g_shape`` is one for a value of ``shape`` (equal, or a
    broadcast of it: a number for an array)."""
    if g_shape == shape:
        return True
    try:
        return np.broadcast_shapes(g_shape, shape) == shape
    except ValueError:
        return False


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape.

    For a NumPy array ``x`` the result is a read-only view that repeats ``g`` (stride 0
    along the reduced axes): no array of ``x``'s size is filled; the adjoint statements
    reading it make their own arrays, and ``unbroadcast`` sums it without a pass.
    """
    if axis == 0 and not keepdims and isinstance(x, (tuple, list)) and \
            not all(isinstance(e, (np.ndarray, np.generic, float, int)) for e in x):
        # (a list of arrays of another type, which zeros_like of the list would convert)
        return np.concatenate([np.expand_dims(g + np.zeros_like(e, dtype=adjoint_dtype(e, g)), 0)
                               for e in x])
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    if type(x) is np.ndarray and x.ndim and (type(g) is np.ndarray or is_number(g)):
        if isinstance(g, float) and x.dtype == np.float64:  # the seed 1.0, or any number
            # a numpy scalar is a read-only buffer: the view is read-only too
            return np.ndarray(x.shape, np.float64, np.float64(g), 0, (0,) * x.ndim)
        return np.broadcast_to(np.asarray(g, dtype=np.result_type(x, g, 1.0)), x.shape)
    return g + np.zeros_like(x, dtype=adjoint_dtype(x, g))  # any array type


def is_number(x):
    """Is ``x`` a Python or NumPy number (not an array of any type)?"""
    return isinstance(x, (float, int, np.generic))


def adjoint_dtype(x, *more):
    """The dtype of an adjoint of ``x`` (receiving ``more``): at least floating point."""
    if isinstance(x, (tuple, list)):  # a list of numbers, or of arrays (of any array type)
        return np.result_type(*(adjoint_dtype(e) for e in x), *more, 1.0)
    return np.result_type(x, *more, 1.0)


def element_count(x):
    """``np.size(x)``, read from the shape: Dask does not implement ``np.size``, and its
    fallback would compute the whole array to count it."""
    if type(x) is np.ndarray:
        return x.size
    n = 1
    for d in np.shape(x):
        n *= d
    return n


def scatter_add(x_bar, index, g):
    """``x_bar[index] += g`` in place; repeated integer indices accumulate (``np.add.at``).

    A basic index or a boolean mask names each element once: ``+=`` does, on any array
    type. Integer arrays may repeat an index: ``np.add.at``, which reaches a foreign
    array through its ``__array_ufunc__`` (an array type without ``ufunc.at`` raises).
    The adjoints of a container (a list, a dict, ragged pieces) hold arrays that may be
    other adjoints too (``unindex`` puts ``g`` in a slot, a copy of the list shares them,
    ``unreduce`` gives read-only views): a slot is replaced by the sum, never added to in
    place.
    """
    if isinstance(x_bar, (dict, list)) or type(x_bar) is np.ndarray and x_bar.dtype == object:
        x_bar[index] = add_bars(x_bar[index], g)  # (a slice of a list: element by element)
        return
    if type(index) is int:  # a loop's counter
        x_bar[index] += g
        return
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis or
           getattr(p, "dtype", None) == np.bool_ for p in parts):
        x_bar[index] += g  # each element named once
    else:
        np.add.at(x_bar, index, g)


def tie_share(g, mask, axis=None, keepdims=False):
    """``g``, the adjoint of a ``max``/``min`` over ``axis``, shared equally among the ties
    ``mask`` marks (the forward sweep's ``x == ans``, kept: s2sad.reverse.forward_masks).
    ``g`` is divided by the count of ties first (an array of the reduced shape), then spread
    over the mask. One array of ``x``'s size is made, and no other: the count is summed in
    the smallest unsigned type that holds it (into int64, NumPy casts the mask through a
    buffer of int64s of its size), and a NumPy mask selects by ``np.copyto(where=)`` (a
    product with it would cast it to floats through another such buffer)."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    count = np.sum(mask, axis=axis, keepdims=True, dtype=np.min_scalar_type(np.size(mask)))
    share = g / count
    if type(mask) is not np.ndarray or not count.all():  # (an array library's own; or a
        return share * mask  # NaN max, equal to nothing: its adjoint NaN, as ever, not 0)
    spread = np.zeros(mask.shape, np.result_type(share))
    np.copyto(spread, share, where=mask)
    return spread


def matmul_bar_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (1-d operands and batches included)."""
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray and \
            a.ndim == 2 and b.ndim == 2:  # matrices: no np.ndim, and dot (@ costs ~0.3 us more)
        if b.shape[1] == 1:
            return g * b.T  # an outer product: one multiply each, as GEMM would, but faster
        return g.dot(b.T)
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return g @ b.T
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * b
    if np.ndim(b) == 1:
        return unbroadcast(np.expand_dims(g, -1) * b, a)
    if np.ndim(a) == 1:
        return unbroadcast((b @ np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(g @ np.swapaxes(b, -1, -2), a)


def matmul_bar_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b`` (1-d operands and batches included)."""
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray and \
            a.ndim == 2 and b.ndim <= 2:  # as in matmul_bar_a
        if a.shape[0] == 1 and b.ndim == 2:
            return a.T * g  # an outer product
        if g.ndim == 1:
            return g.dot(a)  # a.T @ g without making the view a.T (an RNN's step: ~3%)
        return a.T.dot(g)
    if np.ndim(a) == 2 and np.ndim(b) <= 2:
        return a.T @ g
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * a
    if np.ndim(a) == 1:
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast((np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b)


class tuple_bar(list):
    """The adjoint of a tuple or list: one adjoint per element, added element by element (a
    plain tuple or list would concatenate; an array is one adjoint per row, see
    :func:`add_bars`), and updated in place by ``x_bar[k] += g``."""

    def __add__(self, other):
        if not isinstance(other, (tuple, list)) and np.ndim(other) == 0:
            if other is None or other == 0:  # a zero
                return self
            raise TypeError("internal: a number added to the adjoint of a tuple")
        return add_bars(self, other)

    __radd__ = __iadd__ = __add__


class dict_bar(dict):
    """The adjoint of a dict: one adjoint per entry, added entry by entry."""

    def __add__(self, other):
        if not isinstance(other, dict):
            if other is None or np.ndim(other) == 0 and other == 0:  # a zero
                return self
            raise TypeError(f"internal: a {type(other).__name__} added to the adjoint "
                            f"of a dict")
        return add_bars(self, other)

    __radd__ = __iadd__ = __add__


def add_bars(a, b, batch=False):
    """``a + b`` for two adjoints, element by element where a container of adjoints meets
    another or an array (a plain tuple of adjoints, ``(a_bar, b_bar)``, would concatenate):
    the array's rows are the elements' adjoints (``np.stack``'s adjoint), or with ``batch``
    (vector mode's batches of tangents, the directions first) its second axis's. ``None`` is
    a zero. Containers of different lengths are a bug: an error, never a truncated sum."""
    if a is None or b is None:
        return b if a is None else a
    if isinstance(b, (tuple, list)) and not isinstance(a, (tuple, list)):
        a, b = b, a
    if isinstance(a, (tuple, list)) and not isinstance(b, (tuple, list, dict)) and \
            np.ndim(b) > batch:  # an array of the elements' adjoints
        if batch and getattr(b, "dtype", None) != object:  # (ragged pieces: one batch each)
            b = [b[:, k] for k in range(np.shape(b)[1])]
        else:
            b = list(b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            raise ValueError(f"internal: adjoints of {len(a)} and {len(b)} elements added")
        return tuple_bar(add_bars(x, y, batch) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return dict_bar((k, add_bars(a.get(k), b.get(k), batch)) for k in {**a, **b})
    return a + b


def as_gradient(g, x):
    """The adjoint ``g`` of the argument ``x`` as the caller gets it: in ``x``'s own structure
    (tuples, lists, dicts and named tuples, nested, as in JAX), with arrays the caller may
    write into (never a read-only view made by unreduce), of ``x``'s floating dtype."""
    if type(g) is np.ndarray and not isinstance(x, (tuple, list)):
        if type(x) is np.ndarray and g.dtype is not x.dtype and x.dtype.kind in "fc":
            return g.astype(x.dtype)
        return g if g.base is None or g.flags.writeable else g.copy()  # (base: the fast test)
    if isinstance(x, (tuple, list)) and not isinstance(g, (tuple, list)) and np.ndim(g) > 0:
        if not fits_shape(np.shape(g), np.shape(x)):  # NumPy read x as an array
            raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a tuple "
                             f"or list of shape {np.shape(x)}")
        g = list(np.broadcast_to(g, np.shape(x)))  # one adjoint per element
    if isinstance(x, (tuple, list)) and isinstance(g, (tuple, list)):
        if len(g) != len(x):
            raise ValueError(f"internal: {len(g)} adjoints for {len(x)} elements")
        items = [as_gradient(e_bar, e) for e_bar, e in zip(g, x)]
        if hasattr(x, "_fields"):  # a named tuple
            return type(x)(*items)
        return type(x)(items) if type(x) in (tuple, list) else tuple(items)
    if isinstance(x, dict) and isinstance(g, dict):
        items = [(k, as_gradient(g[k], e)) for k, e in x.items()]
        return dict(items) if type(x) is dict else type(x)(items)
    if isinstance(x, np.generic) and x.dtype.kind in "fc" and np.ndim(g) == 0:
        return x.dtype.type(g)
    return g


def writable(g):
    """A returned gradient the caller may change: a copy if ``g`` is a read-only view."""
    if type(g) is np.ndarray and not g.flags.writeable:
        return g.copy()
    return g
