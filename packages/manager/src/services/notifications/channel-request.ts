import { createHmac } from 'node:crypto';
import type { NotificationChannel } from '../../db/notification-tables';
import type { NotificationMessage } from './notification-message';

/** Where a subscription sends to: the columns of `notification_subscriptions` a channel uses. */
export interface ChannelTarget {
  channel: NotificationChannel;
  url: string | null;
  email: string | null;
  roomId: string | null;
  chatId: string | null;
  secret: string | null;
}

/** An HTTP request that delivers one notification. */
export interface ChannelRequest {
  method: 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The Telegram Bot API, unless the subscription names another base (a proxy, or a test). */
export const TELEGRAM_API_URL = 'https://api.telegram.org';

/** Signature header of a webhook delivery: `sha256=` and the hex HMAC of `<timestamp>.<body>`. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const COLOURS = { good: 0x2e9d4f, bad: 0xc62828, info: 0x1565c0 } as const;
const hex = (n: number) => `#${n.toString(16).padStart(6, '0')}`;
const trimSlash = (url: string) => url.replace(/\/+$/, '');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The request that delivers `message` on an HTTP channel, in that channel's own format. Webhooks
 * are signed with the subscription's secret over the timestamp and the exact body sent. Matrix
 * uses the delivery id as its transaction id, so a retry of a message that did arrive is not
 * shown twice. E-mail is not HTTP: null.
 */
export function buildChannelRequest(
  target: ChannelTarget,
  message: NotificationMessage,
  deliveryId: string,
  now: Date = new Date(),
): ChannelRequest | null {
  const json = { 'Content-Type': 'application/json', 'User-Agent': 'farm-manager' };
  const line = `${message.title}\n${message.text}`;
  switch (target.channel) {
    case 'webhook': {
      const body = JSON.stringify({
        id: deliveryId,
        event: message.event,
        test: message.event === 'test',
        occurredAt: message.occurredAt,
        title: message.title,
        text: message.text,
        data: message.data,
      });
      const timestamp = String(Math.floor(now.getTime() / 1000));
      return {
        method: 'POST',
        url: target.url ?? '',
        headers: {
          ...json,
          'X-Farm-Event': message.event,
          'X-Farm-Delivery': deliveryId,
          'X-Farm-Timestamp': timestamp,
          'X-Farm-Signature': signWebhook(target.secret ?? '', timestamp, body),
        },
        body,
      };
    }
    case 'slack':
      return {
        method: 'POST',
        url: target.url ?? '',
        headers: json,
        body: JSON.stringify({
          text: line,
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150) } },
            { type: 'section', text: { type: 'mrkdwn', text: message.text } },
          ],
        }),
      };
    case 'discord':
      return {
        method: 'POST',
        url: target.url ?? '',
        headers: json,
        body: JSON.stringify({
          username: 'Farm',
          embeds: [
            {
              title: message.title.slice(0, 256),
              description: message.text,
              color: COLOURS[message.severity],
              timestamp: message.occurredAt,
            },
          ],
          allowed_mentions: { parse: [] },
        }),
      };
    case 'rocketchat':
      return {
        method: 'POST',
        url: target.url ?? '',
        headers: json,
        body: JSON.stringify({
          alias: 'Farm',
          text: message.title,
          attachments: [
            { title: message.title, text: message.text, color: hex(COLOURS[message.severity]) },
          ],
        }),
      };
    case 'matrix':
      return {
        method: 'PUT',
        url:
          `${trimSlash(target.url ?? '')}/_matrix/client/v3/rooms/` +
          `${encodeURIComponent(target.roomId ?? '')}/send/m.room.message/${deliveryId}`,
        headers: { ...json, Authorization: `Bearer ${target.secret ?? ''}` },
        body: JSON.stringify({
          msgtype: 'm.text',
          body: line,
          format: 'org.matrix.custom.html',
          formatted_body: `<strong>${escapeHtml(message.title)}</strong><br>${escapeHtml(message.text)}`,
        }),
      };
    case 'telegram':
      return {
        method: 'POST',
        url: `${trimSlash(target.url ?? TELEGRAM_API_URL)}/bot${target.secret ?? ''}/sendMessage`,
        headers: json,
        body: JSON.stringify({
          chat_id: target.chatId,
          text: `<b>${escapeHtml(message.title)}</b>\n${escapeHtml(message.text)}`,
          parse_mode: 'HTML',
          disable_web_page_preview: true,
        }),
      };
    case 'email':
      return null;
  }
}
