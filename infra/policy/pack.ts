import { PolicyPack } from '@pulumi/policy';
import { POLICIES } from './policies.ts';

/**
 * The policy pack: `pulumi preview --policy-pack infra/policy`. Constructing it starts the
 * analyzer's gRPC server, so only Pulumi's policy runner loads this file (via index.cjs);
 * tests import the policies from policies.ts instead.
 */
new PolicyPack('pgsteward-database-security', {
  description: "The design record's security decisions for the pgsteward database stacks.",
  enforcementLevel: 'mandatory',
  policies: POLICIES,
});
