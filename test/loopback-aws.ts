import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A loopback HTTP server that receives the real AWS SDK's requests for the JSON protocols
 * (awsJson1_0, awsJson1_1: POST /, the operation in X-Amz-Target, a JSON body, gzip when the
 * SDK compresses). Each request is decoded and recorded; the reply comes from the handler for
 * its target, so a test decides what "AWS" answers. Nothing here checks signatures: the tests
 * are about what the client sends, not about IAM.
 */

export interface AwsRequest {
  /** X-Amz-Target, e.g. `GraniteServiceVersion20100801.PutMetricData`. */
  target: string;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type AwsReply = { status?: number; body: unknown; type?: string };
export type AwsHandler = (req: AwsRequest) => AwsReply | Promise<AwsReply>;

export interface LoopbackAws {
  url: string;
  requests: AwsRequest[];
  /** Requests for one X-Amz-Target. */
  of(target: string): AwsRequest[];
  close(): Promise<void>;
}

export async function startLoopbackAws(handlers: Record<string, AwsHandler>): Promise<LoopbackAws> {
  const requests: AwsRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        const contentType = String(req.headers['content-type'] ?? '');
        const target = String(req.headers['x-amz-target'] ?? '');
        const text = raw.toString('utf8');
        const r: AwsRequest = { target, contentType, headers: req.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
        requests.push(r);
        const handler = handlers[target];
        const reply: AwsReply = handler ? await handler(r) : { status: 400, body: { __type: 'UnknownOperationException', message: `no handler for ${target}` } };
        const type = reply.type ?? (contentType || 'application/x-amz-json-1.1');
        res.writeHead(reply.status ?? 200, { 'content-type': type, 'x-amzn-requestid': `loopback-${requests.length}` });
        res.end(JSON.stringify(reply.body ?? {}));
      })().catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalFailure', message: String(e) }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    of: (target) => requests.filter((r) => r.target === target),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The X-Amz-Target values the tests answer. */
export const TARGET = {
  putMetricData: 'GraniteServiceVersion20100801.PutMetricData',
  getSecretValue: 'secretsmanager.GetSecretValue',
} as const;

/**
 * Credentials and region for clients that talk to loopback servers only: s3rver's fixed key
 * pair (it checks signatures; this server does not), so one environment serves both.
 */
export const LOOPBACK_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'eu-west-1',
} as const;
