"""Reports what the teye shim did in this interpreter, then uses the (fake or real) torch API."""
import json
import sys

report = {
    "torch_imported_at_start": "torch" in sys.modules,
    "finder_installed": any(type(f).__name__ == "_Finder" for f in sys.meta_path),
    "user_sitecustomize": getattr(sys.modules.get("sitecustomize"), "USER_SITECUSTOMIZE", False),
}
if len(sys.argv) > 1 and sys.argv[1] == "use-torch":
    import torch.optim
    import torch.utils.data.dataloader as dl

    it = dl._MultiProcessingDataLoaderIter([1, 2, 3])
    report["items"] = list(it)
    opt = torch.optim.SGD()
    for _ in range(4):
        opt.step()
    report["step_name"] = torch.optim.SGD.step.__name__
print(json.dumps(report))
