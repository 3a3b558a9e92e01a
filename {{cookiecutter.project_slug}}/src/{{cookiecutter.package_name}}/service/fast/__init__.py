"""Fast mode (SERVING_MODE=fast, the default): every speed-up of the service, each replacing one piece of plain mode.

Plain mode (routers/predict.py, served_model.py) is the reference; each piece here gives its answers, only sooner.
serving_modes.py picks the mode; serving.py below starts this one.

| Piece          | Replaces in plain mode         | Why                            | Tested in tests/service/        |
|----------------|--------------------------------|--------------------------------|---------------------------------|
| child_loader   | MLflow load in the worker      | MLflow stays in worker memory  | fast/test_child_loader.py       |
| numpy_path     | DataFrame through the steps    | pandas, sklearn checks > model | fast/test_numpy_path.py         |
| json_route     | FastAPI body parsing, deps     | one pydantic-core pass         | fast/test_json_route.py         |
| micro_batching | a model call, commit a request | concurrent requests share them | fast/test_micro_batching.py     |
| predict_routes | routers/predict.py's routes    | the pieces wired, orjson       | test_serving_modes.py           |
| http_metrics   | instrumentator's middleware    | no Request, Info, route match  | test_serving_modes.py           |
| serving        | route order; GC full scans     | hot routes first; model frozen | every endpoint test, both modes |
| numpy_path     | the swapped-in model as loaded | a new version gets it too      | test_reload.py                  |

docs/performance.md has what each piece buys, measured by `make bench`.
"""
