"""Input kind detection from content (SPEC §2), not from file names."""

from __future__ import annotations

from typing import Any

KUBERNETES = "kubernetes"
CLOUDFORMATION = "cloudformation"
EKSCTL = "eksctl"
IAM_POLICY = "iam-policy"
IAM_AUTHORIZATION_DETAILS = "iam-authorization-details"
EKS_FARGATE_PROFILE = "eks-fargate-profile"
UNKNOWN = "unknown"


def _is_cfn_resources(resources: Any) -> bool:
    if not isinstance(resources, dict) or not resources:
        return False
    for value in resources.values():
        if isinstance(value, dict):
            t = value.get("Type")
            if isinstance(t, str) and (t.startswith("AWS::") or t.startswith("Custom::")):
                return True
    return False


def _is_policy(root: Any) -> bool:
    return isinstance(root, dict) and "Statement" in root and isinstance(root["Statement"], (dict, list))


def detect_kind(root: Any) -> str:
    if isinstance(root, dict):
        api = root.get("apiVersion")
        kind = root.get("kind")
        if isinstance(api, str) and api.startswith("eksctl.io/") and kind == "ClusterConfig":
            return EKSCTL
        if "AWSTemplateFormatVersion" in root or _is_cfn_resources(root.get("Resources")):
            return CLOUDFORMATION
        if "RoleDetailList" in root or ("Policies" in root and "UserDetailList" in root):
            return IAM_AUTHORIZATION_DETAILS
        if _is_policy(root) or (isinstance(root.get("PolicyDocument"), dict) and _is_policy(root["PolicyDocument"])):
            return IAM_POLICY
        if "fargateProfileName" in root and ("selectors" in root or "podExecutionRoleArn" in root):
            return EKS_FARGATE_PROFILE
        if isinstance(api, str) and isinstance(kind, str):
            return KUBERNETES
        return UNKNOWN
    if isinstance(root, list) and root and all(_is_policy(item) for item in root):
        return IAM_POLICY
    return UNKNOWN
