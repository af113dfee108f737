import { describe, expect, it } from 'vitest';
import {
  aptCommands,
  aptConfig,
  aptProblem,
  aptSourcesList,
  clientPackages,
  debianMirrors,
  describeManifest,
  installedMajors,
  isUnreachable,
  librariesOutside,
  loaderInvocation,
  parseDebFields,
  parseManifest,
  platformRefusal,
  toolsLayout,
  wrapperScript,
  type Platform,
  type ToolsManifest,
} from './install-plan.ts';

const layout = toolsLayout('/repo/.pgsteward', 17);

describe('the private apt configuration', () => {
  it('lives in the state folder and moves every apt folder there, so the system’s apt setup is neither read nor written', () => {
    expect(layout).toMatchObject({ dir: '/repo/.pgsteward/tools/postgresql-17', bin: '/repo/.pgsteward/tools/postgresql-17/bin', root: '/repo/.pgsteward/tools/postgresql-17/root', manifest: '/repo/.pgsteward/tools/postgresql-17/manifest.json' });
    const conf = aptConfig(layout.apt, { runningAsRoot: false });
    for (const key of ['Dir::Etc', 'Dir::State', 'Dir::State::status', 'Dir::Cache', 'Dir::Log']) {
      expect(conf).toMatch(new RegExp(`^${key} "/repo/\\.pgsteward/tools/apt/`, 'm'));
    }
    // the system's apt.conf.d, sources, preferences and trusted keys are all relative to our Dir::Etc
    for (const key of ['main', 'parts', 'sourcelist', 'sourceparts', 'preferences', 'preferencesparts', 'trusted', 'trustedparts']) {
      expect(conf).toMatch(new RegExp(`^Dir::Etc::${key} "[a-z.]+(\\.d)?";$`, 'm'));
    }
    expect(conf).not.toMatch(/"\/etc|"\/var/);
  });

  it('states verification rather than inheriting it: signed indexes, valid dates, no unauthenticated packages', () => {
    const conf = aptConfig(layout.apt, { runningAsRoot: false });
    expect(conf).toContain('Acquire::AllowInsecureRepositories "false";');
    expect(conf).toContain('Acquire::AllowDowngradeToInsecureRepositories "false";');
    expect(conf).toContain('Acquire::Check-Valid-Until "true";');
    expect(conf).toContain('APT::Get::AllowUnauthenticated "false";');
    expect(conf).toContain('APT::Update::Error-Mode "any";');
    expect(conf).not.toMatch(/trusted=yes|allow-insecure|AllowUnauthenticated "true"/i);
    expect(conf).not.toContain('Sandbox');
    expect(aptConfig(layout.apt, { runningAsRoot: true })).toContain('APT::Sandbox::User "root";');
  });

  it('has one sources list for the trixie suite, bound to the Debian archive keyring', () => {
    expect(aptSourcesList('trixie', { archive: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' })).toBe(
      [
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-updates main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main',
        '',
      ].join('\n'),
    );
  });

  it('runs apt-get update and apt-get download under APT_CONFIG, downloading the client and its libraries', () => {
    const { update, download } = aptCommands(layout, 17);
    expect(update).toEqual({ file: 'apt-get', args: ['-q', 'update'], env: { APT_CONFIG: '/repo/.pgsteward/tools/apt/apt.conf', DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
    expect(download.args.slice(0, 3)).toEqual(['-q', 'download', 'postgresql-client-17']);
    expect(download.args).toEqual(expect.arrayContaining(['libpq5', 'libc6', 'libssl3t64', 'libzstd1', 'libxxhash0', 'libreadline8t64', 'libcrypt1']));
    expect(download.args).toHaveLength(2 + clientPackages(17).length);
    expect(download.cwd).toBe('/repo/.pgsteward/tools/apt/debs');
    expect(download.env).toEqual(update.env);
  });
});

describe('the Debian mirror', () => {
  it('is the one this machine already uses, from deb822 or one-line sources; Debian’s own otherwise', () => {
    const deb822 = [
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://mirror.corp.example/debian/',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://mirror.corp.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n');
    const nodesource = 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n';
    expect(debianMirrors([{ name: 'nodesource.sources', text: nodesource }, { name: 'debian.sources', text: deb822 }])).toEqual({ archive: 'http://mirror.corp.example/debian', security: 'http://mirror.corp.example/debian-security' });
    const list = '# deb http://old.example/debian bookworm main\ndeb [arch=amd64] http://ftp.de.debian.org/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\n';
    expect(debianMirrors([{ name: 'sources.list', text: list }])).toEqual({ archive: 'http://ftp.de.debian.org/debian', security: 'http://security.debian.org/debian-security' });
    const ubuntu = 'deb http://archive.ubuntu.com/ubuntu jammy main\n';
    expect(debianMirrors([{ name: 'sources.list', text: ubuntu }, { name: 'x.list.disabled', text: list }])).toEqual({ archive: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' });
    // a disabled stanza is passed over; the next one still counts
    expect(debianMirrors([{ name: 'debian.sources', text: 'Enabled: no\n' + deb822 }])).toEqual({ archive: 'http://deb.debian.org/debian', security: 'http://mirror.corp.example/debian-security' });
    expect(debianMirrors([], { PGSTEWARD_DEBIAN_MIRROR: 'http://m/debian' })).toEqual({ archive: 'http://m/debian', security: 'http://deb.debian.org/debian-security' });
  });
});

describe('running the extracted tools', () => {
  it('through the packaged loader, with the packaged libraries only', () => {
    expect(loaderInvocation('/t/root', 17, 'pg_dump', ['--version'])).toEqual({
      file: '/t/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      args: ['--inhibit-cache', '--library-path', '/t/root/usr/lib/x86_64-linux-gnu', '/t/root/usr/lib/postgresql/17/bin/pg_dump', '--version'],
    });
    expect(loaderInvocation('/t/root', 17, 'pg_dumpall', [], '/t/bin/pg_dumpall').args).toEqual(['--inhibit-cache', '--library-path', '/t/root/usr/lib/x86_64-linux-gnu', '--argv0', '/t/bin/pg_dumpall', '/t/root/usr/lib/postgresql/17/bin/pg_dumpall']);
  });

  it('a wrapper per tool, the same text wherever the folder lives', () => {
    const w = wrapperScript(17, 'pg_dumpall');
    expect(w.startsWith('#!/bin/sh\n')).toBe(true);
    expect(w).toContain('self=$(readlink -f -- "$0") || exit 127\nroot=${self%/bin/*}/root\n');
    expect(w).toContain('exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$root/usr/lib/x86_64-linux-gnu" --argv0 "$self" "$root/usr/lib/postgresql/17/bin/pg_dumpall" "$@"\n');
    expect(w).not.toContain('/repo');
  });

  it('finds the libraries that would come from outside the tools folder', () => {
    const list = [
      '\tlinux-vdso.so.1 (0x00007ffd3b5f1000)',
      '\tlibpq.so.5 => /t/root/usr/lib/x86_64-linux-gnu/libpq.so.5 (0x00007f1d1c5d0000)',
      '\tlibxxhash.so.0 => /lib/x86_64-linux-gnu/libxxhash.so.0 (0x00007fa46067a000)',
      '\tlibfoo.so.1 => not found',
      '\t/t/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 (0x00007f1d1c80a000)',
    ].join('\n');
    expect(librariesOutside(list, '/t/root')).toEqual(['libxxhash.so.0 => /lib/x86_64-linux-gnu/libxxhash.so.0', 'libfoo.so.1 => not found']);
    expect(librariesOutside(list, '/t/ro')).toHaveLength(4);
  });

  it('reads the package fields dpkg-deb prints', () => {
    expect(parseDebFields(' Package: zlib1g\n Version: 1:1.3.dfsg+really1.3.1-1+deb13u1\n Architecture: amd64\n')).toEqual({ name: 'zlib1g', version: '1:1.3.dfsg+really1.3.1-1+deb13u1', architecture: 'amd64' });
    expect(() => parseDebFields('garbage')).toThrow(/unreadable package fields/);
  });
});

describe('the manifest', () => {
  const manifest: ToolsManifest = {
    format: 1,
    major: 17,
    source: { release: 'Debian 13', suite: 'trixie', mirrors: { archive: 'a', security: 's' }, keyring: 'k' },
    packages: clientPackages(17).map((name) => ({ name, version: name === 'postgresql-client-17' ? '17.12-0+deb13u1' : '1.0-1', architecture: 'amd64', sha256: '0'.repeat(64) })),
    tools: { pg_dump: '17.12', pg_restore: '17.12', psql: '17.12', pg_dumpall: '17.12' },
    installedAt: '2026-01-01T00:00:00.000Z',
  };

  it('is accepted only when complete and for the same major', () => {
    expect(parseManifest(JSON.stringify(manifest), 17)).toEqual(manifest);
    expect(parseManifest(JSON.stringify(manifest), 16)).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...manifest, packages: manifest.packages.slice(1) }), 17)).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...manifest, tools: { pg_dump: '17.12' } }), 17)).toBeUndefined();
    expect(parseManifest('{', 17)).toBeUndefined();
  });

  it('is printed with every package’s exact version', () => {
    const lines = describeManifest(manifest);
    expect(lines[0]).toBe('  pg_dump 17.12, pg_restore 17.12, psql 17.12, pg_dumpall 17.12');
    expect(lines[1]).toBe('packages (Debian 13 trixie, index signatures and package hashes verified by apt):');
    expect(lines[2]).toBe('  postgresql-client-17 17.12-0+deb13u1');
    expect(lines).toHaveLength(2 + clientPackages(17).length);
  });

  it('lists the installed majors, newest first', () => {
    expect(installedMajors(['apt', 'postgresql-9', 'postgresql-17', '.postgresql-18.staging-12', 'postgresql-16', 'probe-cache.json'])).toEqual([17, 16, 9]);
  });
});

describe('where pg-tools cannot install', () => {
  const linux: Platform = { platform: 'linux', arch: 'x64', hasApt: true, hasDpkg: true, hasKeyring: true };
  it('names the platform’s usual way in one line', () => {
    expect(platformRefusal(linux, 17)).toBeUndefined();
    expect(platformRefusal({ ...linux, platform: 'darwin' }, 17)?.line).toBe('pg-tools installs Debian packages, which macOS cannot run; brew install postgresql@17, then set PG_BIN to a folder with pg_dump 17 (e.g. PG_BIN=$(brew --prefix postgresql@17)/bin)');
    expect(platformRefusal({ ...linux, arch: 'arm64' }, 17)?.line).toMatch(/^pg-tools works on Linux x64 only; this machine is arm64; install postgresql-client-17 from the PostgreSQL project's apt repository \(apt\.postgresql\.org\), or set PG_BIN/);
    expect(platformRefusal({ ...linux, hasApt: false }, 17)?.line).toMatch(/^pg-tools needs apt-get and dpkg, which this machine lacks; .* or set PG_BIN to a folder with pg_dump 17$/);
    expect(platformRefusal({ ...linux, hasKeyring: false }, 17)?.line).toMatch(/^the Debian archive keyring .* is missing, so apt cannot verify Debian's packages; install debian-archive-keyring/);
    expect(platformRefusal({ ...linux, platform: 'win32' }, 17)?.line).toMatch(/Windows cannot run; .*set PG_BIN/);
    expect(platformRefusal(linux, 16)?.line).toMatch(/^pg-tools knows no Debian release with PostgreSQL 16 client tools; install postgresql-client-16 from the PostgreSQL project's apt repository/);
    for (const p of [{ ...linux, platform: 'darwin' as const }, { ...linux, hasApt: false }]) {
      const e = platformRefusal(p, 17)!;
      expect(e.exitCode).toBe(2);
      expect(e.line).not.toContain('\n');
    }
  });

  it('tells an unreachable archive from a failed verification, by apt’s own words', () => {
    const offline = 'Err:1 http://127.0.0.1:1/debian trixie InRelease\n  Could not connect to 127.0.0.1:1 (127.0.0.1). - connect (111: Connection refused)\nW: Failed to fetch http://127.0.0.1:1/debian/dists/trixie/InRelease  Could not connect to 127.0.0.1:1 (127.0.0.1). - connect (111: Connection refused)\nE: Some index files failed to download. They have been ignored, or old ones used instead.\n';
    expect(isUnreachable(offline)).toBe(true);
    expect(aptProblem(offline)).toBe('Failed to fetch http://127.0.0.1:1/debian/dists/trixie/InRelease  Could not connect to 127.0.0.1:1 (127.0.0.1). - connect (111: Connection refused)');
    const badsig = 'Err:1 http://m/debian trixie InRelease\n  The following signatures couldn\'t be verified because the public key is not available: NO_PUBKEY 6ED0E7B82643E131\nE: The repository \'http://m/debian trixie InRelease\' is not signed.\n';
    expect(isUnreachable(badsig)).toBe(false);
    expect(aptProblem(badsig)).toBe("The repository 'http://m/debian trixie InRelease' is not signed.");
  });
});
