"""Probe harness: this file's text is executed INSIDE the student's kernel.

It imports nothing from autograde (the kernel may not have it), computes no verdict and
knows no expected value: it calls the student's objects on inputs from the job's inputs
file and writes what they return as plain numeric arrays and JSON. The host judges those.
A student who tampers with this module only damages their own results.

The sandbox protocol (autograde/runner/protocol.py) is not spelled here: the runner sets
the probe statuses below when it installs this module, and passes every path in the call.
"""

import json
import os
import traceback

_MAX_ITEMS = 10_000
_MAX_DEPTH = 4
_MAX_BYTES = 64 * 2**20

# protocol.ProbeStatus values, set by the runner at install
OK = ERROR = MISSING = None


class _Writer:
    """The probe's record (JSON) and arrays (npz), each written whole and then renamed."""

    def __init__(self, record_path, arrays_path):
        self.record_path = record_path
        self.arrays_path = arrays_path
        self.arrays = {}
        self.nbytes = 0

    def add(self, array):
        key = f"a{len(self.arrays)}"
        self.nbytes += array.nbytes
        if self.nbytes > _MAX_BYTES:
            raise _ProbeFailure(ERROR, f"output too large: results exceed {_MAX_BYTES} bytes")
        self.arrays[key] = array
        return key

    def finish(self, record):
        import numpy as np

        if self.arrays:
            tmp = self.arrays_path + ".tmp"
            with open(tmp, "wb") as handle:
                np.savez(handle, **self.arrays)
            os.replace(tmp, self.arrays_path)
        tmp = self.record_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, self.record_path)


class _ProbeFailure(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _torch():
    import sys

    return sys.modules.get("torch")


def _type_name(value):
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__name__


def _encode(value, writer, depth=0):
    """Plain data only: arrays are copied out of ndarray/Tensor memory, never via __array__."""
    import numpy as np

    torch = _torch()
    if value is None:
        return {"none": True}
    if type(value) is bool or type(value) is int or type(value) is float:
        return {"array": writer.add(np.asarray(value)), "was": type(value).__name__}
    if type(value) is str:
        return {"str": value[:10_000]}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"array": writer.add(np.asarray(value.item(), dtype=value.dtype)), "was": "numpy"}
    if isinstance(value, np.ndarray):
        plain = value.view(np.ndarray)
        if plain.dtype.kind not in "biuf":
            return {"unsupported": f"ndarray of dtype {plain.dtype}"}
        return {
            "array": writer.add(np.array(plain, copy=True)),
            "was": "numpy",
            "subclass": None if type(value) is np.ndarray else _type_name(value),
        }
    if torch is not None and isinstance(value, torch.Tensor):
        info = {
            "was": "torch",
            "device": str(value.device),
            "requires_grad": bool(value.requires_grad),
            "torch_dtype": str(value.dtype).replace("torch.", ""),
        }
        tensor = value.detach().cpu()
        if tensor.dtype in (torch.bfloat16,):
            tensor = tensor.float()
        if tensor.is_complex():
            return {"unsupported": "complex tensor"}
        info["array"] = writer.add(np.array(tensor.numpy(), copy=True))
        return info
    if type(value) in (tuple, list):
        if depth >= _MAX_DEPTH or len(value) > _MAX_ITEMS:
            return {"unsupported": f"{type(value).__name__} too deep or too long"}
        return {"seq": [_encode(item, writer, depth + 1) for item in value], "type": type(value).__name__}
    return {"unsupported": _type_name(value)}


def _resolve(namespace, dotted):
    parts = dotted.split(".")
    if parts[0] not in namespace:
        raise _ProbeFailure(MISSING, f"`{parts[0]}` is not defined")
    value = namespace[parts[0]]
    for index, part in enumerate(parts[1:], start=1):
        try:
            value = getattr(value, part)
        except Exception:
            raise _ProbeFailure(MISSING, f"`{'.'.join(parts[:index])}` has no attribute `{part}`") from None
    return value


def _category(value):
    import inspect
    import types

    import numpy as np

    torch = _torch()
    if isinstance(value, types.ModuleType):
        return "module"
    if inspect.isclass(value):
        return "class"
    if isinstance(value, np.ndarray) or (torch is not None and isinstance(value, torch.Tensor)):
        return "array"
    if type(value) in (int, float, bool) or isinstance(value, np.generic):
        return "number"
    if callable(value):
        return "callable"
    return _type_name(value)


class _Inputs:
    """The inputs file, read member by member as the probe names them: it also holds the
    arrays of every other check, hidden sets among them, and none of those is loaded."""

    def __init__(self, path):
        self.path = path
        self._file = None
        self._loaded = {}

    def array(self, key):
        if key not in self._loaded:
            if self._file is None:
                import numpy as np

                self._file = np.load(self.path, allow_pickle=False)  # reads the index only
            self._loaded[key] = self._file[key]
        return self._loaded[key]

    def forget(self):
        """Drop the members loaded so far (between probes of a batch: memory stays one probe's)."""
        self._loaded.clear()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def build(self, ref, index=None):
        if "json" in ref:
            value = ref["json"]
            return tuple(value) if ref.get("tuple") else value
        import numpy as np

        array = self.array(ref["array"])
        array = np.array(array[index] if ref.get("each") else array, copy=True)
        if ref.get("torch"):
            import torch

            tensor = torch.from_numpy(array)
            if ref.get("requires_grad"):
                tensor.requires_grad_(True)
            return tensor
        return array


def _callable(spec, namespace):
    target = _resolve(namespace, spec["target"])
    if not callable(target):
        raise _ProbeFailure(ERROR, f"`{spec['target']}` is not callable (it is a {_type_name(target)})")
    return target


def _arguments(spec, inputs, index):
    """The probe's positional and keyword arguments of draw `index`, built fresh."""
    args = [inputs.build(ref, index) for ref in spec.get("args", [])]
    kwargs = {key: inputs.build(ref, index) for key, ref in spec.get("kwargs", {}).items()}
    return args, kwargs


def _invoke(target, spec, inputs, index):
    """Call `target` with the probe's arguments of draw `index`."""
    args, kwargs = _arguments(spec, inputs, index)
    return target(*args, **kwargs)


def _call(spec, namespace, inputs, writer):
    """What the target returns for each draw; with `after_args`, also its arguments as the call
    left them (the host tells a copy from an update in place)."""
    target = _callable(spec, namespace)
    results, after = [], []
    for index in range(spec.get("count", 1)):
        args, kwargs = _arguments(spec, inputs, index)
        results.append(_encode(target(*args, **kwargs), writer))
        if spec.get("after_args"):
            after.append([_encode(arg, writer) for arg in args])
    record = {"results": results}
    if spec.get("after_args"):
        record["args_after"] = after
    return record


def _backward(spec, namespace, inputs, writer):
    torch = __import__("torch")
    function = _resolve(namespace, spec["target"])
    if not (isinstance(function, type) and issubclass(function, torch.autograd.Function)):
        raise _ProbeFailure(ERROR, f"`{spec['target']}` is not a torch.autograd.Function subclass")
    captured = {}

    class _Spy(function):
        @staticmethod
        def backward(ctx, *grads):
            raw = function.backward(ctx, *grads)
            captured["raw"] = raw
            return raw

    results = []
    for index in range(spec.get("count", 1)):
        captured.clear()
        args = [inputs.build(ref, index) for ref in spec["args"]]
        grad_output = inputs.build(spec["grad_output"], index)
        output = _Spy.apply(*args)
        record = {"output": _encode(output, writer)}
        if not isinstance(output, torch.Tensor) or not output.requires_grad:
            record["backward_error"] = "forward did not return a tensor attached to the graph"
        else:
            try:
                output.backward(grad_output.to(output.dtype).reshape(output.shape))
            except Exception as exc:  # the student's backward raised
                record["backward_error"] = f"{type(exc).__name__}: {exc}"
        raw = captured.get("raw")
        if "raw" in captured:
            raw_list = list(raw) if isinstance(raw, tuple | list) else [raw]
            record["raw"] = [_encode(item, writer) for item in raw_list]
        record["grads"] = [
            _encode(arg.grad, writer)
            if isinstance(arg, torch.Tensor) and arg.requires_grad
            else {"none": True}
            for arg in args
        ]
        results.append(record)
    return {"results": results}


def _outputs(spec, namespace, inputs, writer):
    """A model's outputs on a hidden set, batch by batch (tensors for an nn.Module by default)."""
    import numpy as np

    torch = _torch()
    model = _callable(spec, namespace)
    data = inputs.array(spec["inputs"])
    is_module = torch is not None and isinstance(model, torch.nn.Module)
    mode = spec.get("as", "torch")
    if mode == "auto":
        mode = "torch" if is_module else "numpy"
    if mode == "torch":
        torch = __import__("torch")
    device = "cpu"
    if is_module:
        model.eval()
        params = list(model.parameters())
        if params:
            device = params[0].device
    size = spec.get("batch_size", 256)
    chunks = []
    for start in range(0, len(data), size):
        batch = np.array(data[start : start + size], copy=True)
        if mode == "torch":
            with torch.no_grad():
                out = model(torch.from_numpy(batch).to(device))
            if not isinstance(out, torch.Tensor):
                raise _ProbeFailure(ERROR, f"the model returned {_type_name(out)}, not a tensor")
            chunks.append(np.array(out.detach().float().cpu().numpy(), copy=True))
        else:
            out = model(batch)
            if torch is not None and isinstance(out, torch.Tensor):
                out = out.detach().float().cpu().numpy()
            if not isinstance(out, np.ndarray) or out.dtype.kind not in "biuf":
                raise _ProbeFailure(ERROR, f"the model returned {_type_name(out)}, not a numeric array")
            chunks.append(np.array(out, dtype=np.float32, copy=True))
    return {"results": [_encode(np.concatenate(chunks) if chunks else np.zeros((0,)), writer)]}


def _target(spec, namespace, inputs):
    """The object a structural probe inspects: a notebook variable or what a call returns."""
    if not spec.get("call"):
        return _resolve(namespace, spec["target"])
    return _invoke(_callable(spec, namespace), spec, inputs, 0)


def _module(spec, namespace, inputs, writer):
    """Leaf layer types, parameter counts and, given an input, the output shape of an nn.Module."""
    torch = __import__("torch")
    module = _target(spec, namespace, inputs)
    if not isinstance(module, torch.nn.Module):
        raise _ProbeFailure(ERROR, f"`{spec['target']}` gives a {_type_name(module)}, not an nn.Module")
    leaves = [type(m).__name__ for m in module.modules() if not any(True for _ in m.children())]
    record = {
        "layers": leaves[:_MAX_ITEMS],
        "params": int(sum(p.numel() for p in module.parameters() if p.requires_grad)),
    }
    if spec.get("input") is not None:
        batch = inputs.build(spec["input"], 0)
        params = list(module.parameters())
        if params:
            batch = batch.to(params[0].device)
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = module(batch)
        except Exception as exc:
            record["forward_error"] = f"{type(exc).__name__}: {exc}"[:2000]
        else:
            if isinstance(out, torch.Tensor):
                record["output_shape"] = list(out.shape)
            else:
                record["forward_error"] = f"forward returned {_type_name(out)}, not a tensor"
        finally:
            module.train(was_training)
    return record


def _floats(values):
    import numpy as np

    try:
        return np.array(np.asarray(values, dtype=np.float64), copy=True)
    except (TypeError, ValueError):
        return None


def _figure(spec, namespace, inputs, writer):
    """The data of one axes of a matplotlib Figure (or of an Axes): lines, scatter points, labels."""
    import sys

    value = _target(spec, namespace, inputs)
    figure_cls = getattr(sys.modules.get("matplotlib.figure"), "Figure", None)
    axes_cls = getattr(sys.modules.get("matplotlib.axes"), "Axes", None)
    if axes_cls is not None and isinstance(value, axes_cls):
        ax, figure = value, value.figure
    elif figure_cls is not None and isinstance(value, figure_cls):
        figure = value
        index = spec.get("axes", 0)
        if len(figure.axes) <= index:
            raise _ProbeFailure(ERROR, f"the figure has {len(figure.axes)} axes; the plot is axes {index}")
        ax = figure.axes[index]
    else:
        what = _type_name(value)
        raise _ProbeFailure(ERROR, f"`{spec['target']}` gives a {what}, not a matplotlib Figure or Axes")
    lines = []
    for line in ax.get_lines()[:1000]:
        x, y = _floats(line.get_xdata()), _floats(line.get_ydata())
        lines.append(
            {
                "x": _encode(x, writer) if x is not None else {"unsupported": "non-numeric x data"},
                "y": _encode(y, writer) if y is not None else {"unsupported": "non-numeric y data"},
                "label": str(line.get_label())[:200],
            }
        )
    scatter = []
    for collection in ax.collections[:1000]:
        offsets = _floats(collection.get_offsets())
        if offsets is None or offsets.ndim != 2:
            continue
        scatter.append({"offsets": _encode(offsets, writer), "label": str(collection.get_label())[:200]})
    record = {
        "xlabel": str(ax.get_xlabel())[:200],
        "ylabel": str(ax.get_ylabel())[:200],
        "title": str(ax.get_title())[:200],
        "lines": lines,
        "scatter": scatter,
    }
    if spec.get("call") and figure is not None:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return record


def _lookup(spec, namespace, inputs, writer):
    value = _resolve(namespace, spec["target"])
    record = {"category": _category(value), "type": _type_name(value)}
    if spec.get("value"):
        record["results"] = [_encode(value, writer)]
    return record


_MAX_OUTPUT = 10_000


class _Captured:
    """What a test prints, kept up to _MAX_OUTPUT characters."""

    def __init__(self):
        self.parts = []
        self.size = 0
        self.cut = False

    def write(self, text):
        text = str(text)
        room = _MAX_OUTPUT - self.size
        if len(text) > room:
            self.cut = True
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        return len(text)

    def flush(self):
        return None

    def text(self):
        return "".join(self.parts) + (f"\n... (cut at {_MAX_OUTPUT} characters)" if self.cut else "")


def _script(spec, namespace, inputs, writer):
    """Instructor test code run like a notebook cell in the notebook's namespace: every
    statement, then the value of a last expression shown (IPython's pretty form, else repr;
    None shows nothing). Records what it printed and, when it raised, the exception."""
    import ast
    import contextlib
    import linecache

    source = spec["code"]
    filename = f"<autograde-test {spec.get('id', '')}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    captured = _Captured()
    record = {"output": "", "raised": None, "exception": None, "line": None, "source": None, "in_test": False}
    try:
        with contextlib.redirect_stdout(captured):
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
                if value is not None:
                    captured.write(_pretty(value) + "\n")
    except Exception as exc:
        what, frame = _describe(exc)
        record.update(raised=what, exception=type(exc).__name__)
        if frame is not None:
            source_line = (frame.line or "")[:500]
            record.update(line=frame.lineno, source=source_line, in_test=frame.filename == filename)
    record["output"] = captured.text()
    return record


def _pretty(value):
    try:
        from IPython.lib.pretty import pretty
    except ImportError:
        return repr(value)
    return pretty(value)


_OPS = {
    "lookup": _lookup,
    "call": _call,
    "backward": _backward,
    "outputs": _outputs,
    "module": _module,
    "figure": _figure,
    "script": _script,
}


def _seed_all(seed):
    """Every probe starts from the same generator states, whatever ran before it."""
    import random
    import sys

    value = seed % 2**32 if type(seed) is int else 0
    random.seed(value)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(value)
    torch = _torch()
    if torch is not None:
        torch.manual_seed(value)  # every device, CUDA included


def _describe(exc):
    """An exception's last line (capped) and the innermost frame outside the harness (or None)."""
    lines = traceback.format_exception_only(type(exc), exc)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "autograde-harness" not in f.filename]
    return (lines[-1].strip() if lines else type(exc).__name__)[:2000], frames[-1] if frames else None


def _execute(probe_id, load_spec, namespace, inputs, writer):
    """One probe against `namespace`: the record, its arrays in `writer`; never raises."""
    record = {"id": probe_id, "status": OK}
    try:
        spec, seed = load_spec()
        _seed_all(seed)
        record.update(_OPS[spec["op"]](spec, namespace, inputs, writer))
    except _ProbeFailure as failure:
        record.update(status=failure.status, message=failure.message)
        writer.arrays.clear()
    except BaseException as exc:
        what, frame = _describe(exc)
        where = f" (line {frame.lineno}: {frame.line})" if frame is not None and frame.line else ""
        record.update(status=ERROR, message=what + where)
        writer.arrays.clear()
    return record


def run(probe_id, plan_path, inputs_path, record_path, arrays_path):
    """Run one probe of the plan against the kernel's user namespace; never raises."""
    from IPython import get_ipython

    def load_spec():
        with open(plan_path, encoding="utf-8") as handle:
            plan = json.load(handle)
        return next(p for p in plan["probes"] if p["id"] == probe_id), plan.get("seed")

    writer = _Writer(record_path, arrays_path)
    inputs = _Inputs(inputs_path)
    try:
        record = _execute(probe_id, load_spec, get_ipython().user_ns, inputs, writer)
    finally:
        inputs.close()
    writer.finish(record)


def run_batch(items, plan_path, inputs_path, log_path, seconds_left):
    """Run probes one after another in this one request: `items` holds (probe id, record path,
    arrays path). The plan is read and the inputs file opened once; after each probe its record
    is on disk and the line "<id> TAB <seconds>" is in the log at `log_path` (the runner reads
    it to time each probe, tell where a lost batch stopped, and give each probe its own time
    limit). Between probes the shell's per-cell events fire, as between two cells (a figure left
    by one probe is flushed and closed before the next). No probe starts once `seconds_left` has
    passed, and none after one that a KeyboardInterrupt ended. An exception here (the notebook
    broke open or json) ends the batch: the runner then runs the probes left one at a time."""
    import time

    from IPython import get_ipython

    started = time.monotonic()
    shell = get_ipython()
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    specs = {spec["id"]: spec for spec in plan["probes"]}
    seed = plan.get("seed")
    inputs = _Inputs(inputs_path)
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            for number, (probe_id, record_path, arrays_path) in enumerate(items):
                if number:
                    if time.monotonic() - started >= seconds_left:
                        return
                    shell.events.trigger("post_execute")
                    shell.events.trigger("pre_execute")
                begun = time.monotonic()
                writer = _Writer(record_path, arrays_path)
                spec = specs[probe_id]
                record = _execute(probe_id, lambda spec=spec: (spec, seed), shell.user_ns, inputs, writer)
                writer.finish(record)
                inputs.forget()
                log.write(f"{probe_id}\t{time.monotonic() - begun:.6f}\n")
                log.flush()
                if str(record.get("message", "")).startswith("KeyboardInterrupt"):
                    return  # the runner's interrupt may have been meant for this probe: it decides
    finally:
        inputs.close()


class _Memory(_Writer):
    """A writer that keeps the record and arrays in memory (a self-check in the live kernel)."""

    def __init__(self):
        super().__init__(None, None)
        self.record = None

    def finish(self, record):
        self.record = record


def run_in_memory(spec, seed, namespace, inputs_file):
    """One probe against `namespace` with inputs from an open .npz file object: (record,
    arrays), nothing written anywhere."""
    writer = _Memory()
    inputs = _Inputs(inputs_file)
    try:
        record = _execute(spec["id"], lambda: (spec, seed), namespace, inputs, writer)
    finally:
        inputs.close()
    writer.finish(record)
    return writer.record, dict(writer.arrays)
