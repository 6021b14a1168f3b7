DROP TABLE id_owners;
DROP FUNCTION biglearn_id_owners_immutable();
