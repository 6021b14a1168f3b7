DROP TABLE id_owners;
