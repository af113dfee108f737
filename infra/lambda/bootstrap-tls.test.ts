import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { LAMBDA_ENV } from '../setup-env.ts';
import { pemBundle, rdsRootsFor } from '../rds-ca.ts';
import { createHandler } from './bootstrap-handler.ts';

/**
 * The bootstrap's TLS check, end to end through its handler and core's connection code, against
 * a local server that speaks PostgreSQL's SSL negotiation with a certificate from a test CA
 * made here with openssl. After the handshake the server answers the startup message with
 * "password authentication failed" (28P01): that error means TLS was accepted; a certificate
 * error means it was refused. This is the check that failed on Lambda, whose bundle lacks the
 * RDS G1 roots: the chain must verify against the CA the package ships, and only against it.
 */

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-tls-'));
const file = (name: string) => path.join(tmp, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/**
 * Shaped like RDS's: a root CA (what the package ships), an intermediate it signs, and server
 * certificates the intermediate signs; the server sends its certificate with the intermediate.
 * One server certificate names 127.0.0.1, one another host.
 */
function makeCertificates() {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=pgsteward test root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const sign = (name: string, subject: string, issuer: string, ext: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', subject);
    writeFileSync(file(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${issuer}.pem`), '-CAkey', file(`${issuer}.key`), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '2', '-extfile', file(`${name}.ext`));
  };
  sign('intermediate', '/CN=pgsteward test intermediate CA', 'ca', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const leaf = (name: string, san: string) => {
    sign(name, `/CN=${name}`, 'intermediate', `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    writeFileSync(file(`${name}-chain.pem`), readFileSync(file(`${name}.pem`), 'utf8') + readFileSync(file('intermediate.pem'), 'utf8'));
  };
  leaf('server', 'IP:127.0.0.1,DNS:localhost');
  leaf('elsewhere', 'DNS:db.elsewhere.example');
}

/** An ErrorResponse message: severity, SQLSTATE, text. */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/** Accepts SSLRequest, does the TLS handshake with `certName`, then refuses the login. */
function fakePostgres(certName: string): Promise<{ port: number; close: () => Promise<void>; handshakes: () => number }> {
  let handshakes = 0;
  const server = net.createServer((socket) => {
    socket.once('data', (first: Buffer) => {
      // SSLRequest: length 8, code 80877103.
      if (first.length < 8 || first.readInt32BE(4) !== 80877103) return socket.destroy();
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, key: readFileSync(file(`${certName}.key`)), cert: readFileSync(file(`${certName}-chain.pem`)) });
      secure.on('error', () => secure.destroy());
      secure.on('secure', () => void handshakes++);
      secure.once('data', () => secure.end(errorResponse('28P01', 'password authentication failed for user "pgsteward_admin"')));
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        handshakes: () => handshakes,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

async function bootstrapAgainst(port: number, ca: string | undefined): Promise<string> {
  const handler = createHandler({
    env: {
      DB_TARGET: 'prod',
      DB_NAME: 'app',
      [LAMBDA_ENV.host]: '127.0.0.1',
      [LAMBDA_ENV.port]: String(port),
      [LAMBDA_ENV.sslmode]: 'verify-full',
      [LAMBDA_ENV.masterSecretArn]: 'master',
    },
    migrationsDir: MIGRATIONS_DIR,
    readSecret: async () => JSON.stringify({ username: 'pgsteward_admin', password: 'not-the-point-here' }),
    ca,
    log: () => {},
  });
  const e = await handler({ setupKey: 'k', settings: ['max_connections'] }).then(
    () => new Error('the bootstrap unexpectedly succeeded'),
    (x: unknown) => x as Error,
  );
  return e.message;
}

let good: Awaited<ReturnType<typeof fakePostgres>>;
let wrongHost: Awaited<ReturnType<typeof fakePostgres>>;
beforeAll(async () => {
  makeCertificates();
  good = await fakePostgres('server');
  wrongHost = await fakePostgres('elsewhere');
});
afterAll(async () => {
  await good?.close();
  await wrongHost?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('bootstrap TLS against the CA it ships', () => {
  it('refuses a server certificate chained to a CA it was not given (as with the runtime bundle alone)', async () => {
    const message = await bootstrapAgainst(good.port, undefined);
    expect(message).toMatch(/^database bootstrap failed: cannot connect to postgres:\/\/pgsteward_admin:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=verify-full: unable to get local issuer certificate/);
    expect(good.handshakes()).toBe(0);
  });

  it('accepts the same certificate once that CA is passed as ssl.ca, and gets as far as the login', async () => {
    const message = await bootstrapAgainst(good.port, readFileSync(file('ca.pem'), 'utf8'));
    expect(message).toMatch(/authentication failed for user "pgsteward_admin"/);
    expect(good.handshakes()).toBe(1);
  });

  it('still verifies the host name: a certificate of that CA for another host is refused', async () => {
    const message = await bootstrapAgainst(wrongHost.port, readFileSync(file('ca.pem'), 'utf8'));
    expect(message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|does not match certificate's altnames/);
    expect(wrongHost.handshakes()).toBe(0);
  });

  it('trusts only the given CA: with the RDS roots alone, a server of another CA is refused', async () => {
    const message = await bootstrapAgainst(good.port, pemBundle(rdsRootsFor('eu-west-1', 'rds-ca-rsa2048-g1')));
    expect(message).toMatch(/: unable to get local issuer certificate;/);
  });
});
