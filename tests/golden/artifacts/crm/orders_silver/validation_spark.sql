-- meshc validation query for crm.orders_silver (contract version 1), spark
-- Reads the relation orders_silver with the contract's typed columns; returns the rows that break a row check,
-- with _meshc_rule_ids: the ids of the checks they break, in contract order.
WITH checked AS (
  SELECT
    *,
    NOT COALESCE(`order_amount` >= CAST(0 AS BIGINT), TRUE) AS `__meshc_v0`,
    NOT COALESCE(`order_status` IN ('pending', 'shipped', 'delivered', 'returned'), TRUE) AS `__meshc_v1`
  FROM `orders_silver`
)
SELECT
  `order_id`,
  `order_amount`,
  `order_date`,
  `order_status`,
  FILTER(
    ARRAY(
      CASE WHEN `__meshc_v0` THEN 'sql_f204bc69' END,
      CASE WHEN `__meshc_v1` THEN 'sql_a46874a2' END
    ),
    x -> NOT x IS NULL
  ) AS `_meshc_rule_ids`
FROM `checked`
WHERE
  `__meshc_v0` OR `__meshc_v1`;
