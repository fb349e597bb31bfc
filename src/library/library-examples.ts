// Example documents for Swagger UI: a global helper and a data model, each with its Python under Body.

export const GLOBAL_HELPER_EXAMPLE = `AnalysisType: global
GlobalID: tripline_example_helpers
Filename: tripline_example_helpers.py
Description: Small functions the example rules share
Body: |
  def actor_account(event):
      """The account id of whoever made the call, or "unknown"."""
      return event.deep_get("userIdentity", "accountId", default="unknown")
`;

export const DATA_MODEL_EXAMPLE = `AnalysisType: datamodel
DataModelID: Example.CloudTrail
DisplayName: CloudTrail names for example rules
LogTypes: [AWS.CloudTrail]
Filename: example_cloudtrail_model.py
Mappings:
  - Name: actor_user
    Path: $.userIdentity.arn
  - Name: source_ip
    Method: source_ip
Body: |
  def source_ip(event):
      return event.get("sourceIPAddress") or "0.0.0.0"
`;
