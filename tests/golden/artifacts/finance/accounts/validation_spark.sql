-- meshc validation query for finance.accounts (contract version 1.1.0), spark
-- Reads the relation accounts with the contract's typed columns; returns the rows that break a row check,
-- with _meshc_rule_ids: the ids of the checks they break, in contract order.
WITH checked AS (
  SELECT
    *,
    NOT COALESCE(NOT (
      `account_id` IS NULL
    ), TRUE) AS `__meshc_v0`,
    NOT COALESCE(`account_id` RLIKE '(?d)^[1-6][0-9]{5}\\z', TRUE) AS `__meshc_v1`,
    NOT COALESCE(
      NOT CASE
        WHEN (
          `account_id` IS NULL
        )
        THEN FALSE
        ELSE COUNT(*) OVER (PARTITION BY `account_id`) > 1
      END,
      TRUE
    ) AS `__meshc_v2`,
    NOT COALESCE(NOT (
      `account_name` IS NULL
    ), TRUE) AS `__meshc_v3`,
    NOT COALESCE(LENGTH(`account_name`) <= CAST(100 AS BIGINT), TRUE) AS `__meshc_v4`,
    NOT COALESCE(NOT (
      `account_type` IS NULL
    ), TRUE) AS `__meshc_v5`,
    NOT COALESCE(`account_type` IN ('asset', 'liability', 'equity', 'revenue', 'expense'), TRUE) AS `__meshc_v6`,
    NOT COALESCE(`cost_center` RLIKE '(?d)^CC-[0-9]{4}\\z', TRUE) AS `__meshc_v7`,
    NOT COALESCE(NOT (
      `currency` IS NULL
    ), TRUE) AS `__meshc_v8`,
    NOT COALESCE(`currency` IN ('USD', 'EUR', 'GBP'), TRUE) AS `__meshc_v9`,
    NOT COALESCE(NOT (
      `is_active` IS NULL
    ), TRUE) AS `__meshc_v10`,
    NOT COALESCE(NOT (
      `opened_on` IS NULL
    ), TRUE) AS `__meshc_v11`,
    NOT COALESCE(`opened_on` >= CAST('2000-01-01' AS DATE), TRUE) AS `__meshc_v12`,
    NOT COALESCE(`bank_account_iban` RLIKE '(?d)^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\\z', TRUE) AS `__meshc_v13`,
    NOT COALESCE(NOT (
      `updated_at` IS NULL
    ), TRUE) AS `__meshc_v14`,
    NOT COALESCE(
      CASE
        WHEN `account_type` = 'asset'
        THEN `account_id` RLIKE '(?d)^1(?s:.*)\\z'
        WHEN `account_type` = 'liability'
        THEN `account_id` RLIKE '(?d)^2(?s:.*)\\z'
        WHEN `account_type` = 'equity'
        THEN `account_id` RLIKE '(?d)^3(?s:.*)\\z'
        WHEN `account_type` = 'revenue'
        THEN `account_id` RLIKE '(?d)^4(?s:.*)\\z'
        ELSE SUBSTRING(`account_id`, 1, 1) IN ('5', '6')
      END,
      TRUE
    ) AS `__meshc_v15`,
    NOT COALESCE((
      `bank_account_iban` IS NULL
    ) OR (
      `account_type` = 'asset'
    ), TRUE) AS `__meshc_v16`,
    NOT COALESCE(UPPER(`currency`) = `currency`, TRUE) AS `__meshc_v17`,
    NOT COALESCE(
      NOT CASE
        WHEN (
          `account_name` IS NULL
        ) OR (
          `cost_center` IS NULL
        )
        THEN FALSE
        ELSE COUNT(*) OVER (PARTITION BY `account_name`, `cost_center`) > 1
      END,
      TRUE
    ) AS `__meshc_v18`
  FROM `accounts`
)
SELECT
  `account_id`,
  `account_name`,
  `account_type`,
  `cost_center`,
  `currency`,
  `is_active`,
  `opened_on`,
  `balance`,
  `bank_account_iban`,
  `updated_at`,
  FILTER(
    ARRAY(
      CASE WHEN `__meshc_v0` THEN 'account_id.required' END,
      CASE WHEN `__meshc_v1` THEN 'account_id.pattern' END,
      CASE WHEN `__meshc_v2` THEN 'account_id.unique' END,
      CASE WHEN `__meshc_v3` THEN 'account_name.required' END,
      CASE WHEN `__meshc_v4` THEN 'account_name.max_length' END,
      CASE WHEN `__meshc_v5` THEN 'account_type.required' END,
      CASE WHEN `__meshc_v6` THEN 'account_type.accepted_values' END,
      CASE WHEN `__meshc_v7` THEN 'cost_center.pattern' END,
      CASE WHEN `__meshc_v8` THEN 'currency.required' END,
      CASE WHEN `__meshc_v9` THEN 'currency.accepted_values' END,
      CASE WHEN `__meshc_v10` THEN 'is_active.required' END,
      CASE WHEN `__meshc_v11` THEN 'opened_on.required' END,
      CASE WHEN `__meshc_v12` THEN 'opened_on.range' END,
      CASE WHEN `__meshc_v13` THEN 'bank_account_iban.pattern' END,
      CASE WHEN `__meshc_v14` THEN 'updated_at.required' END,
      CASE WHEN `__meshc_v15` THEN 'account_number_matches_type' END,
      CASE WHEN `__meshc_v16` THEN 'iban_only_on_asset_accounts' END,
      CASE WHEN `__meshc_v17` THEN 'sql_0c7cf188' END,
      CASE WHEN `__meshc_v18` THEN 'unique_name_per_cost_center' END
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
  OR `__meshc_v18`;
