"""The error codes the simulator answers are in botocore's model."""

from __future__ import annotations

import botocore.session


def test_the_error_codes_are_in_botocores_model():
    model = botocore.session.get_session().get_service_model("codedeploy")
    for operation in ("GetDeploymentTarget", "BatchGetDeploymentTargets"):
        errors = {e.name for e in model.operation_model(operation).error_shapes}
        assert {"InvalidDeploymentTargetIdException", "DeploymentTargetDoesNotExistException"} <= (
            errors
        )
    errors = {e.name for e in model.operation_model("ListDeployments").error_shapes}
    assert "InvalidDeploymentStatusException" in errors
