/** What the ELB test server knows exists (credentials, account, instances, VPC) and its options. */

export type ElbApiName = 'elb' | 'alb';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDELBTESTEXAMPLE01', secretAccessKey: 'elbTestSecret/K7MDENG+bPxRfiCYzEXAMPLEKEY' };
export const TEST_ACCOUNT_ID = '123456789012';
/** EC2 instances that exist as far as the server is concerned */
export const INSTANCE_IDS = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003'] as const;
/** the VPC every subnet belongs to, and its CIDR (10.0.0.0/16) */
export const VPC_ID = 'vpc-0a1b2c3d4e5f60718';
export const SUBNETS = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'] as const;

export interface ElbServerOptions {
  api: ElbApiName;
  region?: string;
  /** most items one Describe* page holds, whatever PageSize asks (default 400) */
  pageSize?: number;
  /** load balancers that exist before the test (alb: each with a listener and target group, plus one network LB) */
  seedBalancers?: number;
  /** how long a new ALB is `provisioning`, a new target `initial`, a new instance OutOfService (default 150) */
  provisioningMs?: number;
}

