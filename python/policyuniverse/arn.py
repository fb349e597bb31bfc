"""Just enough of an ARN to judge a principal: its service (`iam`, `s3`…) and its account."""

import re

_ARN = re.compile(r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$")
_ACCOUNT = re.compile(r"^\d{12}$")
# A service principal: `lambda.amazonaws.com`, `events.amazonaws.com.cn`, `ec2.amazonaws.com`.
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$|^[a-z0-9.-]+\.amazon\.com$")


class ARN:
    def __init__(self, text):
        self.text = text
        self.error = False
        self.service = False
        self.tech = None
        self.account_number = None
        match = _ARN.match(text)
        if match:
            self.tech = match.group("service")
            self.account_number = match.group("account")
        elif _ACCOUNT.match(text):
            self.account_number = text
        elif _SERVICE.match(text):
            self.service = True
        else:
            self.error = True


def reaches_anyone(principal_or_arn):
    """Whether a principal (or an ARN in a condition) lets in accounts the policy does not name."""
    if principal_or_arn == "*":
        return True
    arn = ARN(principal_or_arn)
    if arn.error:
        return "*" in principal_or_arn
    if arn.tech == "s3":
        # S3 ARNs name buckets, not accounts.
        return False
    if not arn.account_number and not arn.service:
        return True
    return arn.account_number == "*"
