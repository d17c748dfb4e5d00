// Wire types of the Shop HTTP API. JSON is snake_case; timestamps ISO-8601 UTC strings.

export type Role = "user" | "admin";

export interface User {
  id: number;
  name: string;
  email: string;
  role: Role;
  is_active: boolean;
  created_at: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: User;
  /** Only for API clients that ask for it; the browser gets an HttpOnly cookie instead. */
  refresh_token?: string;
}

export interface InventoryItem {
  id: number;
  sku: string;
  name: string;
  price: number;
  qty: number;
  created_at: string;
  updated_at: string;
}

export const ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "expired"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderLine {
  sku: string;
  name: string;
  qty: number;
  unit_price: number;
  line_total: number;
}

export interface Order {
  id: string;
  user_id: number;
  status: OrderStatus;
  total: number;
  items: OrderLine[];
  created_at: string;
  updated_at: string;
  /** While pending: when the order expires and its stock goes back; otherwise null. */
  expires_at?: string | null;
}

export interface OrderEvent {
  id: number | string;
  order_id: string;
  event_type: string;
  description: string | null;
  old_value: string | null;
  new_value: string | null;
  user_id: number | null;
  created_at: string;
}

export interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const WEBHOOK_EVENTS = ["order.created", "order.status_changed"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number] | "*";

export interface Webhook {
  id: number | string;
  url: string;
  events: WebhookEvent[];
  /** Present only in the response that created the webhook or rotated its secret. */
  secret?: string;
  /** After a rotation: until then deliveries are signed with the previous secret too. */
  previous_secret_expires_at?: string | null;
  is_active: boolean;
  created_at: string;
  /**
   * Set while the subscriber is treated as down: its deliveries wait, and one is tried as a probe at this time.
   * Absent from Shops older than this field.
   */
  paused_until?: string | null;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDelivery {
  id: number | string;
  event_id: string;
  event_type: string;
  order_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

/** RFC 9457 problem details, as the services send them (extensions allowed). */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: Record<string, string[] | string>;
  [extension: string]: unknown;
}

export interface OrderRequest {
  items: { sku: string; qty: number }[];
}
