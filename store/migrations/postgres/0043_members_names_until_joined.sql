-- Until a member joins, their account shows them under the names they were
-- added under and nothing else of their identity (equipe.Member.ShownNames):
-- a member added without names is known by their address. Before, such a
-- member was shown under their identity's names, which told the account the
-- name of whoever holds an address. Members added, without names, by
-- someone who shared an account with them were shown their own names on
-- purpose: those names are now written on the membership, as adding them
-- does from now on. The others' sort and search keys forget the identity's
-- names.
UPDATE members SET
    first_name = (SELECT u.first_name FROM users u WHERE u.id = members.user_id),
    last_name = (SELECT u.last_name FROM users u WHERE u.id = members.user_id)
WHERE joined_at IS NULL AND first_name = '' AND last_name = '' AND invited_by IS NOT NULL
    AND EXISTS (SELECT 1 FROM members x JOIN members y ON y.account_id = x.account_id
        WHERE x.user_id = members.invited_by AND x.status = 'active'
            AND y.user_id = members.user_id AND y.joined_at IS NOT NULL);

UPDATE members SET first_key = '', last_key = ''
WHERE joined_at IS NULL AND first_name = '' AND last_name = '' AND (first_key <> '' OR last_key <> '');
