/**
 * AWS commercial regions: display name and ISO 3166 alpha-2 country, for mapping a region to a
 * `Location`. GovCloud, China and the isolated partitions are left out.
 *
 * https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
 */

/** One region's display name (as in the AWS console) and country code. */
export interface AwsRegionInfo {
  name: string;
  country: string;
}

export const AWS_REGIONS: Record<string, AwsRegionInfo> = {
  'us-east-1': { name: 'US East (N. Virginia)', country: 'US' },
  'us-east-2': { name: 'US East (Ohio)', country: 'US' },
  'us-west-1': { name: 'US West (N. California)', country: 'US' },
  'us-west-2': { name: 'US West (Oregon)', country: 'US' },
  'af-south-1': { name: 'Africa (Cape Town)', country: 'ZA' },
  'ap-east-1': { name: 'Asia Pacific (Hong Kong)', country: 'HK' },
  'ap-east-2': { name: 'Asia Pacific (Taipei)', country: 'TW' },
  'ap-south-1': { name: 'Asia Pacific (Mumbai)', country: 'IN' },
  'ap-south-2': { name: 'Asia Pacific (Hyderabad)', country: 'IN' },
  'ap-southeast-1': { name: 'Asia Pacific (Singapore)', country: 'SG' },
  'ap-southeast-2': { name: 'Asia Pacific (Sydney)', country: 'AU' },
  'ap-southeast-3': { name: 'Asia Pacific (Jakarta)', country: 'ID' },
  'ap-southeast-4': { name: 'Asia Pacific (Melbourne)', country: 'AU' },
  'ap-southeast-5': { name: 'Asia Pacific (Malaysia)', country: 'MY' },
  'ap-southeast-6': { name: 'Asia Pacific (New Zealand)', country: 'NZ' },
  'ap-southeast-7': { name: 'Asia Pacific (Thailand)', country: 'TH' },
  'ap-northeast-1': { name: 'Asia Pacific (Tokyo)', country: 'JP' },
  'ap-northeast-2': { name: 'Asia Pacific (Seoul)', country: 'KR' },
  'ap-northeast-3': { name: 'Asia Pacific (Osaka)', country: 'JP' },
  'ca-central-1': { name: 'Canada (Central)', country: 'CA' },
  'ca-west-1': { name: 'Canada West (Calgary)', country: 'CA' },
  'eu-central-1': { name: 'Europe (Frankfurt)', country: 'DE' },
  'eu-central-2': { name: 'Europe (Zurich)', country: 'CH' },
  'eu-west-1': { name: 'Europe (Ireland)', country: 'IE' },
  'eu-west-2': { name: 'Europe (London)', country: 'GB' },
  'eu-west-3': { name: 'Europe (Paris)', country: 'FR' },
  'eu-south-1': { name: 'Europe (Milan)', country: 'IT' },
  'eu-south-2': { name: 'Europe (Spain)', country: 'ES' },
  'eu-north-1': { name: 'Europe (Stockholm)', country: 'SE' },
  'il-central-1': { name: 'Israel (Tel Aviv)', country: 'IL' },
  'me-south-1': { name: 'Middle East (Bahrain)', country: 'BH' },
  'me-central-1': { name: 'Middle East (UAE)', country: 'AE' },
  'mx-central-1': { name: 'Mexico (Central)', country: 'MX' },
  'sa-east-1': { name: 'South America (São Paulo)', country: 'BR' },
};
