CREATE OR REPLACE FUNCTION public.reserve_stock(p_order_id uuid, p_skus text[], p_qtys int[])
RETURNS TABLE (outcome text, sku text, name text, qty int, available int, unit_price numeric)
LANGUAGE plpgsql AS $$
-- outcome per row: 'reserved' (one row per line), 'unknown' / 'short' (one row per
-- offending line, nothing changed), or 'exists' (one row: this order id was seen before).
BEGIN
    -- The order id is the idempotency key: a concurrent call with the same id waits
    -- here for the first to commit; a retry or a released tombstone finds the row.
    INSERT INTO public.reservations (order_id, status, created_at) VALUES (p_order_id, 'reserved', now())
    ON CONFLICT (order_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'exists'::text, NULL::text, NULL::text, NULL::int, NULL::int, NULL::numeric;
        RETURN;
    END IF;

    -- Lock in sku order, so concurrent multi-line reservations cannot deadlock.
    PERFORM 1 FROM public.inventory AS i WHERE i.sku = ANY (p_skus) ORDER BY i.sku FOR UPDATE;

    RETURN QUERY
        SELECT CASE WHEN i.sku IS NULL THEN 'unknown' ELSE 'short' END, r.sku, NULL::text, r.qty, i.qty, NULL::numeric
        FROM unnest(p_skus, p_qtys) AS r(sku, qty)
        LEFT JOIN public.inventory AS i ON i.sku = r.sku
        WHERE i.sku IS NULL OR i.qty < r.qty
        ORDER BY r.sku;
    IF FOUND THEN
        -- All or nothing: give the order id back, as a rollback would.
        DELETE FROM public.reservations AS res WHERE res.order_id = p_order_id;
        RETURN;
    END IF;

    RETURN QUERY
        WITH taken AS (
            UPDATE public.inventory AS i SET qty = i.qty - r.qty, updated_at = now()
            FROM unnest(p_skus, p_qtys) AS r(sku, qty)
            WHERE i.sku = r.sku
            RETURNING i.id AS item_id, i.sku::text AS sku, i.name::text AS name, r.qty, i.qty AS left_qty, i.price),
        recorded AS (
            -- The item, not only its sku: the release gives the stock back to this item, never to another one
            -- created later under the same sku.
            INSERT INTO public.reservation_lines (order_id, sku, name, qty, unit_price, item_id)
            SELECT p_order_id, t.sku, t.name, t.qty, t.price, t.item_id FROM taken AS t)
        SELECT 'reserved', t.sku, t.name, t.qty, t.left_qty, t.price::numeric FROM taken AS t ORDER BY t.sku;
END
$$;
