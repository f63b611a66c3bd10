-- meshc validation query for crm.orders (contract version 2.0.0), spark
-- Reads the relation orders with the contract's typed columns; returns the rows that break a row check,
-- with _meshc_rule_ids: the ids of the checks they break, in contract order.
-- warn checks (reported, never quarantined): unusually_large_order
-- not included: customer_id.references (foreign keys are checked by `meshc run` against the target's data)
-- not included: product_id.references (foreign keys are checked by `meshc run` against the target's data)
WITH checked AS (
  SELECT
    *,
    NOT COALESCE(NOT (
      `order_id` IS NULL
    ), TRUE) AS `__meshc_v0`,
    NOT COALESCE(`order_id` RLIKE '(?d)^ORD-[0-9]{7}\\z', TRUE) AS `__meshc_v1`,
    NOT COALESCE(
      NOT CASE
        WHEN (
          `order_id` IS NULL
        )
        THEN FALSE
        ELSE COUNT(*) OVER (PARTITION BY `order_id`) > 1
      END,
      TRUE
    ) AS `__meshc_v2`,
    NOT COALESCE(NOT (
      `customer_id` IS NULL
    ), TRUE) AS `__meshc_v3`,
    NOT COALESCE(NOT (
      `product_id` IS NULL
    ), TRUE) AS `__meshc_v4`,
    NOT COALESCE(NOT (
      `order_status` IS NULL
    ), TRUE) AS `__meshc_v5`,
    NOT COALESCE(`order_status` IN ('pending', 'shipped', 'delivered', 'returned'), TRUE) AS `__meshc_v6`,
    NOT COALESCE(NOT (
      `order_date` IS NULL
    ), TRUE) AS `__meshc_v7`,
    NOT COALESCE(
      (
        `order_date` >= CAST('2024-01-01' AS DATE)
      )
      AND (
        `order_date` <= CAST('2025-12-31' AS DATE)
      ),
      TRUE
    ) AS `__meshc_v8`,
    NOT COALESCE(NOT (
      `order_amount` IS NULL
    ), TRUE) AS `__meshc_v9`,
    NOT COALESCE(NOT (
      `quantity` IS NULL
    ), TRUE) AS `__meshc_v10`,
    NOT COALESCE(
      (
        `quantity` >= CAST(1 AS BIGINT)
      )
      AND (
        `quantity` <= CAST(1000 AS BIGINT)
      ),
      TRUE
    ) AS `__meshc_v11`,
    NOT COALESCE(NOT (
      `currency` IS NULL
    ), TRUE) AS `__meshc_v12`,
    NOT COALESCE(`currency` IN ('USD', 'EUR', 'GBP'), TRUE) AS `__meshc_v13`,
    NOT COALESCE(LENGTH(`currency`) <= CAST(3 AS BIGINT), TRUE) AS `__meshc_v14`,
    NOT COALESCE(NOT (
      `placed_at` IS NULL
    ), TRUE) AS `__meshc_v15`,
    NOT COALESCE(`order_amount` >= CAST(0 AS BIGINT), TRUE) AS `__meshc_v16`,
    NOT COALESCE(`discount_amount` >= CAST(0 AS BIGINT), TRUE) AS `__meshc_v17`,
    NOT COALESCE(TRY_CAST(`discount_amount` AS DOUBLE) <= `order_amount`, TRUE) AS `__meshc_v18`,
    NOT COALESCE(TRY_CAST(`placed_local` AS DATE) = `order_date`, TRUE) AS `__meshc_v19`,
    NOT COALESCE(`order_date` <= CURRENT_DATE, TRUE) AS `__meshc_v20`,
    NOT COALESCE(`order_amount` < CAST(50000 AS BIGINT), TRUE) AS `__meshc_v21`,
    NOT COALESCE(
      NOT CASE
        WHEN (
          `customer_id` IS NULL
        ) OR (
          `placed_at` IS NULL
        )
        THEN FALSE
        ELSE COUNT(*) OVER (PARTITION BY `customer_id`, `placed_at`) > 1
      END,
      TRUE
    ) AS `__meshc_v22`
  FROM `orders`
)
SELECT
  `order_id`,
  `customer_id`,
  `product_id`,
  `order_status`,
  `order_date`,
  `order_amount`,
  `discount_amount`,
  `quantity`,
  `currency`,
  `placed_at`,
  `placed_local`,
  FILTER(
    ARRAY(
      CASE WHEN `__meshc_v0` THEN 'order_id.required' END,
      CASE WHEN `__meshc_v1` THEN 'order_id.pattern' END,
      CASE WHEN `__meshc_v2` THEN 'order_id.unique' END,
      CASE WHEN `__meshc_v3` THEN 'customer_id.required' END,
      CASE WHEN `__meshc_v4` THEN 'product_id.required' END,
      CASE WHEN `__meshc_v5` THEN 'order_status.required' END,
      CASE WHEN `__meshc_v6` THEN 'order_status.accepted_values' END,
      CASE WHEN `__meshc_v7` THEN 'order_date.required' END,
      CASE WHEN `__meshc_v8` THEN 'order_date.range' END,
      CASE WHEN `__meshc_v9` THEN 'order_amount.required' END,
      CASE WHEN `__meshc_v10` THEN 'quantity.required' END,
      CASE WHEN `__meshc_v11` THEN 'quantity.range' END,
      CASE WHEN `__meshc_v12` THEN 'currency.required' END,
      CASE WHEN `__meshc_v13` THEN 'currency.accepted_values' END,
      CASE WHEN `__meshc_v14` THEN 'currency.max_length' END,
      CASE WHEN `__meshc_v15` THEN 'placed_at.required' END,
      CASE WHEN `__meshc_v16` THEN 'order_amount_non_negative' END,
      CASE WHEN `__meshc_v17` THEN 'discount_amount_non_negative' END,
      CASE WHEN `__meshc_v18` THEN 'discount_within_amount' END,
      CASE WHEN `__meshc_v19` THEN 'local_date_is_order_date' END,
      CASE WHEN `__meshc_v20` THEN 'sql_669f5ad4' END,
      CASE WHEN `__meshc_v21` THEN 'unusually_large_order' END,
      CASE WHEN `__meshc_v22` THEN 'one_order_per_customer_instant' END
    ),
    x -> NOT x IS NULL
  ) AS `_meshc_rule_ids`
FROM `checked`
WHERE
  `__meshc_v0`
  OR `__meshc_v1`
  OR `__meshc_v2`
  OR `__meshc_v3`
  OR `__meshc_v4`
  OR `__meshc_v5`
  OR `__meshc_v6`
  OR `__meshc_v7`
  OR `__meshc_v8`
  OR `__meshc_v9`
  OR `__meshc_v10`
  OR `__meshc_v11`
  OR `__meshc_v12`
  OR `__meshc_v13`
  OR `__meshc_v14`
  OR `__meshc_v15`
  OR `__meshc_v16`
  OR `__meshc_v17`
  OR `__meshc_v18`
  OR `__meshc_v19`
  OR `__meshc_v20`
  OR `__meshc_v21`
  OR `__meshc_v22`;
