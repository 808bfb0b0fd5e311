package app

// defaultPolicy is published when the operator configures none. It states,
// in both languages, what equipe itself stores; operators replace it with
// their own (EQUIPE_PRIVACY_POLICY_URL or EQUIPE_PRIVACY_POLICY_FILE).
const defaultPolicy = `
Politique de confidentialité

Ce service gère les comptes, les équipes et les autorisations de ses utilisateurs. Il conserve :
- votre identité : adresse e-mail de connexion, prénom, nom, langue, éventuelle adresse de notification ;
- votre mot de passe, uniquement sous forme d'empreinte (argon2id) : personne ne peut le lire ;
- vos appartenances aux comptes, vos rôles et autorisations ;
- vos sessions (date, adresse IP, navigateur) et l'historique des actions effectuées (journal d'audit) ;
- la date, la version et l'adresse IP de votre acceptation de la présente politique.

Ces données servent uniquement à vous authentifier, à appliquer les autorisations que les administrateurs de vos comptes vous accordent et à vous envoyer les e-mails liés à votre accès (invitations, réinitialisation de mot de passe, notifications de sécurité). Elles ne sont ni vendues ni cédées. Vous pouvez demander leur consultation, leur rectification ou leur suppression à l'administrateur de votre compte ou à l'exploitant du service.

—

Privacy policy

This service manages the accounts, teams and permissions of its users. It keeps:
- your identity: login email address, first name, last name, language, and any notification address;
- your password, only as a one-way hash (argon2id): nobody can read it;
- your memberships of accounts, your roles and permissions;
- your sessions (date, IP address, browser) and the history of actions taken (audit log);
- the date, version and IP address of your acceptance of this policy.

This data is used only to authenticate you, to apply the permissions that your accounts' administrators grant you, and to send you the emails your access involves (invitations, password resets, security notices). It is neither sold nor passed on. You may ask your account's administrator or the service's operator to see, correct or delete it.
`
