"""RLBench suite on the embedded MuJoCo engine (Franka Panda): one module per task, found automatically."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
