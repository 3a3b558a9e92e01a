"""The deployment files of a bake: the compose stack follows the options, the Kubernetes manifests are valid."""

import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

TEAM = {"tracking": "server", "store": "postgresql", "dvc_remote": "s3"}
# A reference to a variable with no fallback: `${VAR:?message}` (compose stops with the message when VAR is unset).
REQUIRED = re.compile(r"\$\{[A-Z0-9_]+:\?[^}]+\}")
SECRET_WORDS = ("PASSWORD", "SECRET", "API_KEY")
# The clients' scoped keys beside the required API_KEY: none unless set.
OPTIONAL_SECRETS = {"API_KEYS"}


def compose(project):
    return yaml.safe_load((project / "deploy/docker-compose.yml").read_text())


def k8s_documents(project):
    return [yaml.safe_load(path.read_text()) for path in sorted((project / "deploy/k8s").glob("*.yaml"))]


def by_name(documents, kind, name):
    """The one document of this kind whose name ends with `-name` (my-ml-product-score, my-ml-product-archive)."""
    [document] = [d for d in documents if d["kind"] == kind and d["metadata"]["name"].endswith(f"-{name}")]
    return document


def api_pod(documents):
    """The pod spec of the API's Deployment."""
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]


def cronjob_pod(documents, name):
    """The CronJob `name` unpacked: the CronJob, its job spec, its pod spec and the pod's one container."""
    cronjob = by_name(documents, "CronJob", name)
    job = cronjob["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    return cronjob, job, pod, pod["containers"][0]


def assert_runs_as_the_api(documents, pod, container):
    """A CronJob's pod runs as the API's pod does: the same user, Secret and config, and image; a read-only root."""
    api = api_pod(documents)
    assert pod["securityContext"] == api["securityContext"]
    assert container["envFrom"] == api["containers"][0]["envFrom"]
    assert container["image"] == api["containers"][0]["image"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize(
    ("answers", "services"),
    [
        ({}, {"api"}),
        ({"store": "postgresql"}, {"postgres", "api"}),
        ({"dvc_remote": "s3"}, {"s3", "buckets", "api"}),
        ({"tracking": "server", "dvc_remote": "none"}, {"postgres", "s3", "buckets", "mlflow", "api"}),
        (TEAM, {"postgres", "s3", "buckets", "mlflow", "api"}),
    ],
    ids=["defaults", "store:postgresql", "dvc_remote:s3", "tracking:server", "team"],
)
def test_compose_runs_the_services_the_options_need(bake, answers, services):
    result = bake(**answers)
    assert result.exit_code == 0, result.exception
    assert set(compose(result.project_path)["services"]) == services


def test_compose_services_are_health_checked_and_start_in_order(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    services = compose(result.project_path)["services"]
    # Every long-running service has a health check; the one-shot bucket job is awaited by its exit code.
    assert {name for name, service in services.items() if "healthcheck" in service} == set(services) - {"buckets"}
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dependency == "buckets" else "service_healthy"
            assert condition == {"condition": expected}, (name, dependency)
    assert set(services["api"]["depends_on"]) == {"postgres", "mlflow"}
    assert set(services["mlflow"]["depends_on"]) == {"postgres", "buckets"}
    # The images are the project's own Dockerfile, built from the project root (the parent of deploy/).
    assert services["api"]["build"] == services["mlflow"]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
    assert (result.project_path / "Dockerfile").is_file()


def test_compose_secrets_have_no_default(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    text = (result.project_path / "deploy/docker-compose.yml").read_text()
    secrets = ("POSTGRES_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "API_KEY")
    for name in (*secrets, "MLFLOW_ADMIN_PASSWORD", "MLFLOW_SECRET_KEY", "MLFLOW_SERVICE_PASSWORD"):
        # The name itself, not a longer one (API_KEY, not API_KEYS).
        references = re.findall(rf"\$\{{{name}(?![A-Z0-9_])[^}}]*\}}", text)
        assert references, name
        assert all(REQUIRED.fullmatch(reference) for reference in references), references
    for service in compose(result.project_path)["services"].values():
        for key, value in service.get("environment", {}).items():
            if key in OPTIONAL_SECRETS:
                # Empty by default means none of them, never a usable secret.
                assert value == f"${{{key}:-}}", (key, value)
            elif any(word in key for word in SECRET_WORDS):
                assert REQUIRED.search(str(value)), (key, value)
    example = (result.project_path / "deploy/.env.example").read_text()
    assert re.findall(r"^(\w+)=$", example, re.MULTILINE) == [
        "POSTGRES_PASSWORD",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "MLFLOW_ADMIN_PASSWORD",
        "MLFLOW_SECRET_KEY",
        "MLFLOW_SERVICE_PASSWORD",
        "API_KEY",
    ]


def test_compose_mlflow_uses_postgresql_and_proxies_artifacts_to_s3(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    mlflow = compose(result.project_path)["services"]["mlflow"]
    command = " ".join(mlflow["command"])
    assert "--serve-artifacts" in command
    assert "--artifacts-destination s3://my-ml-product-mlflow/" in command
    assert mlflow["environment"]["BACKEND_STORE_URI"].startswith("postgresql+psycopg://")
    api = compose(result.project_path)["services"]["api"]["environment"]
    assert api["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert api["DATABASE_URL"].startswith("postgresql+psycopg://")
    # Clients of a proxying server need no storage credentials.
    assert not any(key.startswith("AWS_") for key in api)


def test_compose_mlflow_asks_for_a_login_and_the_api_logs_in_read_only(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    stack = compose(result.project_path)
    mlflow = stack["services"]["mlflow"]
    assert "mlflow server --app-name basic-auth" in " ".join(mlflow["command"])
    # MLflow has no default admin password: this one is required, so no stack starts with a guessable one.
    assert REQUIRED.fullmatch(mlflow["environment"]["MLFLOW_AUTH_ADMIN_PASSWORD"])
    assert REQUIRED.fullmatch(mlflow["environment"]["MLFLOW_FLASK_SERVER_SECRET_KEY"])
    config = stack["configs"]["mlflow-basic-auth"]["content"]
    assert mlflow["environment"]["MLFLOW_AUTH_CONFIG_PATH"] == mlflow["configs"][0]["target"]
    assert "admin_password" not in config and "database_uri = postgresql+psycopg://" in config
    api = stack["services"]["api"]["environment"]
    assert api["MLFLOW_TRACKING_USERNAME"] == "${MLFLOW_SERVICE_USERNAME:-service}"
    assert REQUIRED.fullmatch(api["MLFLOW_TRACKING_PASSWORD"])


def test_the_team_lock_has_what_mlflow_basic_auth_needs(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    assert '"mlflow[auth]==' in (result.project_path / "pyproject.toml").read_text()
    assert re.search(r"^flask-wtf==", (result.project_path / "requirements.lock").read_text(), re.MULTILINE)


def test_kubernetes_manifests_only_with_a_tracking_server(bake):
    result = bake(tracking="local")
    assert result.exit_code == 0, result.exception
    assert not (result.project_path / "deploy/k8s").exists()


def test_kubernetes_manifests_are_valid_offline(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    documents = k8s_documents(result.project_path)
    kinds = {document["kind"] for document in documents}
    assert kinds == {
        "Kustomization",
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "Secret",
        "PersistentVolumeClaim",
        "CronJob",
        "Pod",
    }
    version = kubernetes_validate.latest_version()
    for document in documents:
        if document["kind"] != "Kustomization":
            kubernetes_validate.validate(document, version, strict=True)


def test_kubernetes_deployment_is_probed_bounded_and_non_root(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    pod = api_pod(k8s_documents(result.project_path))
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    secret_refs = [source["secretRef"]["name"] for source in container["envFrom"] if "secretRef" in source]
    secret = next(d for d in k8s_documents(result.project_path) if d["kind"] == "Secret")
    assert secret_refs == [secret["metadata"]["name"]]


def test_the_scoring_cronjob_scores_into_a_dated_folder_as_the_apis_user(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    documents = k8s_documents(result.project_path)
    cronjob, job, pod, container = cronjob_pod(documents, "score")
    # One run at a time, never retried: a refused batch (too many rejected rows) would be refused again.
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid" and job["backoffLimit"] == 0
    assert "my_ml_product score /batches/incoming" in container["command"][-1]
    assert "$(date -u +%Y-%m-%d)" in container["command"][-1]
    assert_runs_as_the_api(documents, pod, container)
    claim = by_name(documents, "PersistentVolumeClaim", "batches")
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["batches"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


def test_the_archive_cronjob_archives_onto_its_own_volume_as_the_apis_user(bake):
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    documents = k8s_documents(result.project_path)
    cronjob, job, pod, container = cronjob_pod(documents, "archive")
    # One run at a time; a retry is safe (a rerun finishes a stopped archive), so it may retry.
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid" and job["backoffLimit"] > 0
    assert container["command"][:3] == ["my_ml_product", "db", "archive"]
    arguments = dict(zip(container["command"][3::2], container["command"][4::2], strict=True))
    assert arguments["--older-than"] == "30d"
    # DATABASE_URL is the Secret's (the API's envFrom): the same database the API's replicas write to.
    assert_runs_as_the_api(documents, pod, container)
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
    # The Parquet goes onto the archive's own claim, not the scoring batches' nor the read-only image.
    claim = by_name(documents, "PersistentVolumeClaim", "archive")
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    [mount] = [m for m in container["volumeMounts"] if arguments["--into"].startswith(m["mountPath"] + "/")]
    assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["metadata"]["name"] != by_name(documents, "PersistentVolumeClaim", "batches")["metadata"]["name"]
    # The pod a checkout copies the files out through (not applied by kustomize) mounts that claim, read-only.
    copy = by_name(documents, "Pod", "archive-copy")["spec"]
    [volume] = copy["volumes"]
    assert volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"], "readOnly": True}
    [copy_mount] = copy["containers"][0]["volumeMounts"]
    assert copy_mount["readOnly"] is True and copy_mount["mountPath"] == mount["mountPath"]
    assert "archive-copy-pod.yaml" not in (result.project_path / "deploy/k8s/kustomization.yaml").read_text()


def test_kustomize_renders_the_manifests(bake):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the manifests were validated one by one, not rendered by kustomize")
    result = bake(**TEAM)
    assert result.exit_code == 0, result.exception
    rendered = subprocess.run(
        [kubectl, "kustomize", str(result.project_path / "deploy/k8s")], capture_output=True, text=True, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    documents = list(yaml.safe_load_all(rendered.stdout))
    # The Secret is a template that stays out of the rendered output: real secrets are created in the cluster.
    assert {d["kind"] for d in documents} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "CronJob",
    }
    version = kubernetes_validate.latest_version()
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "my-ml-product"
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    # The API's Service sends requests to the API's pods only, never to a scoring or archive job's.
    service = next(d for d in documents if d["kind"] == "Service")
    cronjobs = [d for d in documents if d["kind"] == "CronJob"]
    assert len(cronjobs) == 2
    for cronjob in cronjobs:
        pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]
        assert not service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
