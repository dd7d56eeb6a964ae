import { useState, type FormEvent } from 'react';

import { ErrorText, Field } from '../components';
import { fieldOf } from '../errors';
import { LoginDocument, RegisterDocument } from '../gql/graphql';
import { useMutation } from '../hooks';
import { useSession } from '../session';

export function LoginPage() {
  const { logIn, notice } = useSession();
  const login = useMutation(LoginDocument);
  const register = useMutation(RegisterDocument);
  const [form, setForm] = useState({ login: '', password: '' });
  const [signup, setSignup] = useState({ login: '', password: '', firstName: '', secondName: '' });

  const onLogin = async (event: FormEvent) => {
    event.preventDefault();
    const data = await login.run(form);
    if (data) {
      logIn(data.login);
      window.location.hash = '#/shops';
    }
  };
  const onRegister = async (event: FormEvent) => {
    event.preventDefault();
    const data = await register.run({ input: signup });
    if (data) {
      logIn(data.register);
      window.location.hash = '#/shops';
    }
  };
  const signupError = (field: string) => (fieldOf(register.error) === field ? register.error : undefined);

  return (
    <div className="columns">
      <section aria-labelledby="login-heading">
        <h1 id="login-heading">Log in</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={onLogin}>
          <Field label="Login" name="login" autoComplete="username" required value={form.login}
            onChange={(e) => setForm({ ...form, login: e.target.value })} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" required
            value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
          <ErrorText error={login.error} />
          <button type="submit" disabled={login.pending}>Log in</button>
        </form>
      </section>
      <section aria-labelledby="register-heading">
        <h2 id="register-heading">New here? Register</h2>
        <form onSubmit={onRegister}>
          <Field label="Choose a login" name="new-login" autoComplete="username" required value={signup.login}
            error={signupError('login')} onChange={(e) => setSignup({ ...signup, login: e.target.value })} />
          <Field label="Choose a password (8 characters or more)" name="new-password" type="password"
            autoComplete="new-password" required value={signup.password} error={signupError('password')}
            onChange={(e) => setSignup({ ...signup, password: e.target.value })} />
          <Field label="First name" name="first-name" autoComplete="given-name" required value={signup.firstName}
            error={signupError('firstName')} onChange={(e) => setSignup({ ...signup, firstName: e.target.value })} />
          <Field label="Last name" name="second-name" autoComplete="family-name" required value={signup.secondName}
            error={signupError('secondName')} onChange={(e) => setSignup({ ...signup, secondName: e.target.value })} />
          <ErrorText error={fieldOf(register.error) ? null : register.error} />
          <button type="submit" disabled={register.pending}>Register</button>
        </form>
      </section>
    </div>
  );
}
