// The founding rule's three test events (seed/000_2c59e4a0288232cd.txt), as the ingest example in
// Swagger UI: sending them as they stand gives one hit and one alert.
const identity = (accountId: string) => ({
  type: 'AWSAccount',
  accountId,
  principalId: 'AROAEXAMPLE:session-name',
});
const common = {
  eventVersion: '1.08',
  eventTime: '2023-03-01T00:00:00Z',
  awsRegion: 'us-east-1',
  eventSource: 's3.amazonaws.com',
  eventName: 'GetObject',
  sourceIPAddress: '10.0.0.1',
};
const request = {
  requestParameters: { bucketName: 'example-bucket', key: 'sensitive-file.txt' },
  responseElements: null,
};
const endpoint = { vpcEndpointId: 'vpce-EXAMPLE08c1b6b9b7', vpcEndpointAccountId: '222222222222' };

export const INGEST_EXAMPLE = [
  {
    ...common,
    eventCategory: 'NetworkActivity',
    eventType: 'AwsVpceEvent',
    userIdentity: identity('111111111111'),
    recipientAccountId: '222222222222',
    ...request,
    ...endpoint,
  },
  {
    ...common,
    eventCategory: 'NetworkActivity',
    eventType: 'AwsVpceEvent',
    userIdentity: identity('222222222222'),
    recipientAccountId: '222222222222',
    ...request,
    ...endpoint,
  },
  {
    ...common,
    eventCategory: 'Management',
    eventType: 'AwsApiCall',
    userIdentity: identity('111111111111'),
    recipientAccountId: '222222222222',
    ...request,
  },
];
