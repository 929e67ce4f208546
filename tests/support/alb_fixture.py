"""Build (or dump) an ALB scenario in a moto server, for wspath's ALB tests.

Test SETUP only: the code under test is wspath's Rust provider; this script just creates the
VPC, subnets, load balancer, target groups, targets and listeners through the ELBv2/EC2 APIs
(boto3, which comes with moto) and prints the ARNs as JSON.

usage: ALB_FIXTURE_SPEC=spec.json alb_fixture.py ENDPOINT build   (or the spec on stdin)
       alb_fixture.py ENDPOINT dump LB_ARN        (rules, LB and TG attributes, for before/after)
"""

import json
import os
import sys
import urllib.request

import boto3

ENDPOINT = sys.argv[1]
KW = dict(
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
elbv2 = boto3.client("elbv2", **KW)
ec2 = boto3.client("ec2", **KW)


def action(spec, tgs):
    if "forward" in spec:
        return [{"Type": "forward", "TargetGroupArn": tgs[spec["forward"]]}]
    if "fixed" in spec:
        return [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": str(spec["fixed"]), "ContentType": "text/plain"}}]
    if "redirect" in spec:
        return [{"Type": "redirect", "RedirectConfig": {"Protocol": spec["redirect"], "Port": "443", "StatusCode": "HTTP_301"}}]
    raise SystemExit(f"unknown action {spec}")


def conditions(rule):
    out = []
    config_form = rule.get("config_form", False)
    if "path" in rule:
        out.append({"Field": "path-pattern", "PathPatternConfig": {"Values": rule["path"]}} if config_form
                   else {"Field": "path-pattern", "Values": rule["path"]})
    if "host" in rule:
        out.append({"Field": "host-header", "HostHeaderConfig": {"Values": rule["host"]}} if config_form
                   else {"Field": "host-header", "Values": rule["host"]})
    return out


def build(spec):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    lb = elbv2.create_load_balancer(Name=spec["lb"], Subnets=subnets, Scheme="internet-facing", Type="application")["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    if spec.get("attributes"):
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=lb_arn,
            Attributes=[{"Key": k, "Value": str(v)} for k, v in spec["attributes"].items()],
        )
    tgs = {}
    for tg in spec.get("target_groups", []):
        kw = dict(Name=tg["name"], Protocol=tg.get("protocol", "HTTP"), Port=tg.get("port", 8080), VpcId=vpc,
                  TargetType=tg.get("target_type", "ip"))
        if tg.get("protocol_version"):
            kw["ProtocolVersion"] = tg["protocol_version"]
        arn = elbv2.create_target_group(**kw)["TargetGroups"][0]["TargetGroupArn"]
        tgs[tg["name"]] = arn
        if tg.get("targets"):
            elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": t["id"], "Port": t["port"]} for t in tg["targets"]])
        if tg.get("attributes"):
            elbv2.modify_target_group_attributes(
                TargetGroupArn=arn, Attributes=[{"Key": k, "Value": str(v)} for k, v in tg["attributes"].items()])
    listeners = {}
    for li in spec.get("listeners", []):
        kw = dict(LoadBalancerArn=lb_arn, Protocol=li["protocol"], Port=li["port"], DefaultActions=action(li["default"], tgs))
        if li["protocol"] == "HTTPS":
            kw["Certificates"] = [{"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/test"}]
        arn = elbv2.create_listener(**kw)["Listeners"][0]["ListenerArn"]
        listeners[f'{li["protocol"]}:{li["port"]}'] = arn
        for rule in li.get("rules", []):
            elbv2.create_rule(ListenerArn=arn, Priority=rule["priority"], Conditions=conditions(rule), Actions=action(rule, tgs))
    out = {"lb_arn": lb_arn, "dns_name": lb["DNSName"], "listeners": listeners, "target_groups": tgs}
    if "iam_user" in spec:
        out["access_key"] = restricted_user(spec["iam_user"])
    print(json.dumps(out))


def restricted_user(spec):
    """A user allowed only spec["allow"]; then moto starts enforcing IAM for every request."""
    iam = boto3.client("iam", **KW)
    iam.create_user(UserName="wspath")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": spec["allow"], "Resource": "*"}]}
    if spec["allow"]:
        iam.put_user_policy(UserName="wspath", PolicyName="wspath", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="wspath")["AccessKey"]
    urllib.request.urlopen(urllib.request.Request(ENDPOINT + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})).read()
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def dump(lb_arn):
    out = {"lb_attributes": sorted((a["Key"], a["Value"]) for a in
                                   elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb_arn)["Attributes"])}
    rules = {}
    for li in elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
        rs = elbv2.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]
        rules[f'{li["Protocol"]}:{li["Port"]}'] = sorted(
            [{"priority": r["Priority"], "conditions": r["Conditions"], "actions": r["Actions"]} for r in rs],
            key=lambda r: (r["priority"] == "default", int(r["priority"]) if r["priority"].isdigit() else 0))
    out["rules"] = rules
    tga = {}
    for tg in elbv2.describe_target_groups()["TargetGroups"]:
        attrs = elbv2.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]
        tga[tg["TargetGroupName"]] = sorted((a["Key"], a["Value"]) for a in attrs)
    out["target_group_attributes"] = tga
    print(json.dumps(out, sort_keys=True))


if sys.argv[2] == "build":
    spec_file = os.environ.get("ALB_FIXTURE_SPEC")
    if spec_file:
        with open(spec_file) as f:
            build(json.load(f))
    else:
        build(json.load(sys.stdin))
elif sys.argv[2] == "dump":
    dump(sys.argv[3])
else:
    raise SystemExit(f"unknown command {sys.argv[2]}")
