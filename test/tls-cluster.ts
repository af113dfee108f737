import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionSettings } from '../core/db/url.ts';
import { LocalCluster } from '../core/local/cluster.ts';
import { freePort } from '../core/local/ports.ts';

/**
 * A PostgreSQL 17 of its own (the embedded binaries, like the suite's) that also speaks TLS
 * with a certificate for 127.0.0.1 from a throwaway CA: for code that refuses plaintext, as
 * the runner does for prod targets (sslmode require or verify-full). Plain connections are
 * still accepted, so a test can set up its databases the usual way.
 */
export interface TlsCluster {
  port: number;
  /** The CA that signed the server's certificate (PEM file): NODE_EXTRA_CA_CERTS / PGSSLROOTCERT. */
  caFile: string;
  /** Superuser over loopback without TLS, for setting up. */
  admin(database?: string): ConnectionSettings;
  superuserPassword: string;
  stop(): Promise<void>;
}

export async function startTlsCluster(): Promise<TlsCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-tls-pg-'));
  const f = (n: string) => path.join(dir, n);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=pgsteward test root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext'));

  const port = await freePort();
  const cluster = await LocalCluster.open({ stateDir: path.join(dir, 'state'), port });
  await cluster.init();
  // The server reads its key only when it is private to the server's user.
  copyFileSync(f('server.crt'), path.join(cluster.dataDir, 'server.crt'));
  copyFileSync(f('server.key'), path.join(cluster.dataDir, 'server.key'));
  execFileSync('chmod', ['0600', path.join(cluster.dataDir, 'server.key')]);
  appendFileSync(path.join(cluster.dataDir, 'postgresql.conf'), "\n# test: TLS\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
  await cluster.start();
  const admin = cluster.adminSettings();
  return {
    port,
    caFile: f('ca.pem'),
    admin: (database = 'postgres') => ({ ...admin, database }),
    superuserPassword: admin.password!,
    stop: async () => {
      await cluster.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
