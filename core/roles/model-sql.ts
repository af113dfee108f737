import type { Change } from './changes.ts';
import type { RoleModel } from './model.ts';
import { planDatabaseAccess, planRoles } from './plan-cluster.ts';
import { planPrivileges } from './plan-database.ts';

/**
 * Pure: the model as the statements that build it on an empty server, without passwords.
 * A stable text of the model, for content keys that must change exactly when it does
 * (infra's setup key).
 */
export function modelStatements(model: RoleModel): string[] {
  const owner = model.roles.owner;
  const emptyCluster = { serverVersion: '', serverVersionNum: 170000, admin: { name: '', superuser: true, usesOwner: true }, roles: [], memberships: [], settings: [], database: undefined, parameters: [] };
  const created = { ...emptyCluster, database: { owner, acl: [] } };
  const emptyDatabase = { schemas: model.schemas.map((name) => ({ name, owner, acl: [] })), relations: [], columns: [], routines: [], defaults: [], owned: [], foreignOwned: [] };
  const plans: Change[] = [...planRoles({ state: emptyCluster, model, passwords: {} }), ...planDatabaseAccess(created, model), ...planPrivileges(emptyDatabase, model)];
  return plans.map((c) => c.sql);
}
