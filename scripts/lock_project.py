"""Re-resolve the generated project's requirements.lock from a bake that enables every optional dependency."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
LOCK = TEMPLATE / "{{cookiecutter.project_slug}}" / "requirements.lock"
# One lock serves every bake: it is used as constraints, so pins of options not chosen are simply unused.
ALL_OPTIONS = {"store": "postgresql", "dvc_remote": "s3", "tracking": "server"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=ALL_OPTIONS, output_dir=tmp))
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        command = [uv, "pip", "compile", "--quiet", "--universal", "--python-version", "3.11", "--all-extras"]
        command += ["--no-annotate", "pyproject.toml", "-o", "requirements.lock"]
        subprocess.run(command, cwd=project, check=True)
        shutil.copyfile(project / "requirements.lock", LOCK)
    print(f"wrote {LOCK.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
