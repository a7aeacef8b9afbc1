"""Answers to ex02's tasks for the similarity tests: a copy of the solution with other names,
comments and order (COPY), and an independent correct solution (OWN)."""

from __future__ import annotations

COPY = {
    "loss": '''def loss(weights):
    # J(w) as in the lecture
    a, b = weights[0], weights[1]
    return a**2 + b**2 + 30 * np.sin(a) * np.sin(b)
''',
    "gradient": '''def gradient(weights):
    # one partial derivative per weight
    a, b = weights[0], weights[1]
    ga = 2 * a + 30 * np.cos(a) * np.sin(b)  # dJ/da
    gb = 2 * b + 30 * np.sin(a) * np.cos(b)  # dJ/db
    return np.array([ga, gb])
''',
    "descent": '''def gradient_descent(start, lr, n):
    cur = np.array(start, dtype=float)  # never touch the caller's array
    for step in range(n):
        cur = cur - lr * gradient(cur)
    return cur
''',
    "regression": '''def fit_line(xs, ts, lr, n):
    b, m = 0.0, 0.0  # intercept, slope
    for it in range(n):
        pred = b + m * xs
        gb = 2 * np.mean(pred - ts)
        gm = 2 * np.mean((pred - ts) * xs)
        b = b - lr * gb
        m = m - lr * gm
    return np.array([b, m])
''',
}
OWN = {
    "loss": '''def loss(w):
    x, y = np.asarray(w, dtype=float)
    return x * x + y * y + 30.0 * np.sin(x) * np.sin(y)
''',
    "gradient": '''def gradient(w):
    x, y = np.asarray(w, dtype=float)
    return np.array([2*x + 30*np.cos(x)*np.sin(y), 2*y + 30*np.sin(x)*np.cos(y)])
''',
    "descent": '''def gradient_descent(w, eta, epochs):
    out = np.array(w, dtype=float, copy=True)
    i = 0
    while i < epochs:
        out -= eta * gradient(out)
        i += 1
    return out
''',
    "regression": '''def fit_line(x, t, eta, epochs):
    params = np.zeros(2)
    X = np.stack([np.ones_like(x), x], axis=1)
    for epoch in range(epochs):
        residual = X @ params - t
        params = params - eta * 2 * X.T @ residual / len(t)
    return params
''',
}
