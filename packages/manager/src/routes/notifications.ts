import { FarmError } from '@farm/core';
import { defineOperation, respond, type OperationDefinition } from '../http/define-operation';
import type { Principal } from '../http/principal';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listDeliveries,
  listSubscriptions,
  queueTestNotification,
  updateSubscription,
  type Notifications,
} from '../services/notifications';
import type { ServiceContext } from '../services/service-context';
import type { OperationRegistry } from './operation-registry';

/** Subscriptions belong to the user who calls (the router lets only users through). */
function userIdOf(principal: Principal | null): string {
  if (principal?.kind !== 'user') throw new FarmError('forbidden', 'only users have subscriptions');
  return principal.userId;
}

/** The notification operations: subscriptions, test notifications, the delivery log. */
export function registerNotificationRoutes(
  router: OperationRegistry,
  ctx: ServiceContext,
  notifications: Pick<Notifications, 'changed' | 'wake'>,
): void {
  const hooked = { ...ctx, changed: notifications.changed, wake: notifications.wake };
  const definitions: OperationDefinition[] = [
    defineOperation('listNotificationSubscriptions', ({ principal }) =>
      listSubscriptions(ctx, userIdOf(principal)),
    ),
    defineOperation('createNotificationSubscription', async ({ principal, body }) =>
      respond(201, await createSubscription(hooked, userIdOf(principal), body)),
    ),
    defineOperation('getNotificationSubscription', ({ principal, params }) =>
      getSubscription(ctx, userIdOf(principal), params.subscriptionId),
    ),
    defineOperation('updateNotificationSubscription', ({ principal, params, body }) =>
      updateSubscription(hooked, userIdOf(principal), params.subscriptionId, body),
    ),
    defineOperation('deleteNotificationSubscription', async ({ principal, params }) => {
      await deleteSubscription(hooked, userIdOf(principal), params.subscriptionId);
      return respond(204);
    }),
    defineOperation('sendTestNotification', async ({ principal, params }) =>
      respond(202, await queueTestNotification(hooked, userIdOf(principal), params.subscriptionId)),
    ),
    defineOperation('listNotificationDeliveries', ({ principal, params, query }) =>
      listDeliveries(ctx, userIdOf(principal), params.subscriptionId, query),
    ),
  ];
  router.push(...definitions);
}
